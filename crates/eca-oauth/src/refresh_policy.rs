//! The refresh-token lifetime policy of an app's OAuth policies (`refreshTokenPolicyType`,
//! `refreshTokenValidityPeriod`, `refreshTokenValidityUnit`; `spec/metadata.md` §9.7,
//! `spec/oauth-and-connect.md` §1.9C).
//!
//! - `Infinite`: valid until revoked.
//! - `Zero`: "expire immediately". No refresh token is issued at all
//!   ([`RefreshPolicy::issues_refresh_token`] is false): a token that can never be used is
//!   only something to leak, and clients already cope with responses without one (jsforce's
//!   `refresh_token` is optional). Any refresh token that exists anyway is invalid.
//! - `SpecificLifetime`: valid for the period from issue.
//! - `SpecificInactivity`: valid while used at least once per period (from the last use, or
//!   from issue if never used).
//!
//! Units: `Hours`, `Days`, and `Months` counted as 30 days (Salesforce does not say how long
//! its month is; a fixed length keeps expiry independent of the calendar and the time zone).
//! A period of `n` ends exactly `n` units after its start, and the token is valid strictly
//! before that instant.
//!
//! Defaults: without `refreshTokenPolicyType` the policy is `Infinite`, Salesforce's default
//! for OAuth apps; the policies the platform generates on first deploy say `SpecificLifetime`
//! 365 days explicitly (`OauthPolicies::default_for`). A unit missing means `Days`. A
//! lifetime policy with no period, or a period below 1, fails closed: refresh tokens are
//! neither issued nor accepted (the metadata validator reports such a file).

use eca_core::Timestamp;
use eca_metadata::model::{OauthPolicies, RefreshTokenPolicyType, RefreshTokenUnit};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const MONTH_MS: i64 = 30 * DAY_MS;

/// How long refresh tokens of one app live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshPolicy {
    Infinite,
    Zero,
    /// Valid for this many milliseconds from issue.
    Lifetime(i64),
    /// Valid for this many milliseconds from the last use.
    Inactivity(i64),
    /// A lifetime policy without a usable period: nothing is valid.
    Misconfigured,
}

impl RefreshPolicy {
    /// The policy an app's OAuth policies describe; `None` (no policies) means `Infinite`.
    pub fn from_policies(policies: Option<&OauthPolicies>) -> Self {
        let Some(p) = policies else {
            return RefreshPolicy::Infinite;
        };
        Self::from_parts(
            p.refresh_token_policy,
            p.refresh_token_validity_period,
            p.refresh_token_validity_unit,
        )
    }

    /// The policy from its three metadata fields.
    pub fn from_parts(
        kind: Option<RefreshTokenPolicyType>,
        period: Option<i64>,
        unit: Option<RefreshTokenUnit>,
    ) -> Self {
        let duration = || {
            let unit_ms = match unit.unwrap_or(RefreshTokenUnit::Days) {
                RefreshTokenUnit::Hours => HOUR_MS,
                RefreshTokenUnit::Days => DAY_MS,
                RefreshTokenUnit::Months => MONTH_MS,
            };
            period
                .filter(|p| *p >= 1)
                .and_then(|p| p.checked_mul(unit_ms))
        };
        match kind.unwrap_or(RefreshTokenPolicyType::Infinite) {
            RefreshTokenPolicyType::Infinite => RefreshPolicy::Infinite,
            RefreshTokenPolicyType::Zero => RefreshPolicy::Zero,
            RefreshTokenPolicyType::SpecificLifetime => {
                duration().map_or(RefreshPolicy::Misconfigured, RefreshPolicy::Lifetime)
            }
            RefreshTokenPolicyType::SpecificInactivity => {
                duration().map_or(RefreshPolicy::Misconfigured, RefreshPolicy::Inactivity)
            }
        }
    }

    /// Whether grants should issue refresh tokens at all (the scope must allow it too).
    pub fn issues_refresh_token(self) -> bool {
        !matches!(self, RefreshPolicy::Zero | RefreshPolicy::Misconfigured)
    }

    /// When a refresh token issued at `issued_at` and last used at `last_used_at` stops
    /// being valid; `None` for never. For usage listings and introspection.
    pub fn expires_at(
        self,
        issued_at: Timestamp,
        last_used_at: Option<Timestamp>,
    ) -> Option<Timestamp> {
        match self {
            RefreshPolicy::Infinite => None,
            RefreshPolicy::Zero | RefreshPolicy::Misconfigured => Some(issued_at),
            RefreshPolicy::Lifetime(ms) => Some(Timestamp::from_millis(
                issued_at.millis().saturating_add(ms),
            )),
            RefreshPolicy::Inactivity(ms) => {
                let from = last_used_at.map_or(issued_at, |u| u.max(issued_at));
                Some(Timestamp::from_millis(from.millis().saturating_add(ms)))
            }
        }
    }

    /// Whether the refresh token may be used at `now`.
    pub fn is_refresh_token_valid(
        self,
        issued_at: Timestamp,
        last_used_at: Option<Timestamp>,
        now: Timestamp,
    ) -> bool {
        match self {
            RefreshPolicy::Zero | RefreshPolicy::Misconfigured => false,
            _ => self
                .expires_at(issued_at, last_used_at)
                .is_none_or(|end| now < end),
        }
    }
}

#[cfg(test)]
mod tests {
    use eca_metadata::ApiVersion;

    use super::*;
    use RefreshTokenPolicyType as K;
    use RefreshTokenUnit as U;

    const T0: Timestamp = Timestamp::from_secs(1_795_651_200);

    /// Policy type, period, unit, and the policy they make.
    type PartsCase = (Option<K>, Option<i64>, Option<U>, RefreshPolicy);

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_millis(T0.millis() + hours * HOUR_MS)
    }

    #[test]
    fn parts() {
        let table: &[PartsCase] = &[
            (None, None, None, RefreshPolicy::Infinite),
            (
                Some(K::Infinite),
                Some(5),
                Some(U::Days),
                RefreshPolicy::Infinite,
            ),
            (Some(K::Zero), None, None, RefreshPolicy::Zero),
            (
                Some(K::SpecificLifetime),
                Some(2),
                Some(U::Hours),
                RefreshPolicy::Lifetime(2 * HOUR_MS),
            ),
            (
                Some(K::SpecificLifetime),
                Some(365),
                Some(U::Days),
                RefreshPolicy::Lifetime(365 * DAY_MS),
            ),
            (
                Some(K::SpecificLifetime),
                Some(3),
                None,
                RefreshPolicy::Lifetime(3 * DAY_MS),
            ),
            (
                Some(K::SpecificLifetime),
                Some(1),
                Some(U::Months),
                RefreshPolicy::Lifetime(30 * DAY_MS),
            ),
            (
                Some(K::SpecificInactivity),
                Some(7),
                Some(U::Days),
                RefreshPolicy::Inactivity(7 * DAY_MS),
            ),
            (
                Some(K::SpecificLifetime),
                None,
                Some(U::Days),
                RefreshPolicy::Misconfigured,
            ),
            (
                Some(K::SpecificInactivity),
                Some(0),
                Some(U::Days),
                RefreshPolicy::Misconfigured,
            ),
            (
                Some(K::SpecificLifetime),
                Some(-3),
                Some(U::Hours),
                RefreshPolicy::Misconfigured,
            ),
            (
                Some(K::SpecificLifetime),
                Some(i64::MAX),
                Some(U::Months),
                RefreshPolicy::Misconfigured,
            ),
        ];
        for (kind, period, unit, expected) in table {
            assert_eq!(
                RefreshPolicy::from_parts(*kind, *period, *unit),
                *expected,
                "{kind:?} {period:?} {unit:?}"
            );
        }
    }

    #[test]
    fn from_the_model() {
        assert_eq!(RefreshPolicy::from_policies(None), RefreshPolicy::Infinite);
        let generated =
            OauthPolicies::default_for("App", "App_oauth_defaultPolicy", ApiVersion::new(65));
        assert_eq!(
            RefreshPolicy::from_policies(Some(&generated)),
            RefreshPolicy::Lifetime(365 * DAY_MS)
        );
        let empty = OauthPolicies::default();
        assert_eq!(
            RefreshPolicy::from_policies(Some(&empty)),
            RefreshPolicy::Infinite
        );
    }

    #[test]
    fn validity() {
        let two_hours = RefreshPolicy::Lifetime(2 * HOUR_MS);
        let idle_day = RefreshPolicy::Inactivity(DAY_MS);
        let table: &[(RefreshPolicy, Option<Timestamp>, Timestamp, bool)] = &[
            (RefreshPolicy::Infinite, None, at(1_000_000), true),
            (RefreshPolicy::Zero, None, T0, false),
            (RefreshPolicy::Zero, None, at(-1), false),
            (RefreshPolicy::Misconfigured, None, T0, false),
            // Lifetime counts from issue; use does not extend it. The end is exclusive.
            (two_hours, None, at(1), true),
            (
                two_hours,
                Some(at(1)),
                Timestamp::from_millis(at(2).millis() - 1),
                true,
            ),
            (two_hours, Some(at(1)), at(2), false),
            (two_hours, None, at(3), false),
            // Inactivity counts from the last use, or from issue.
            (idle_day, None, at(23), true),
            (idle_day, None, at(24), false),
            (idle_day, Some(at(20)), at(43), true),
            (idle_day, Some(at(20)), at(44), false),
            // A last use recorded before issue (clock trouble) does not shorten the life.
            (idle_day, Some(at(-48)), at(23), true),
        ];
        for (policy, last_used, now, expected) in table {
            assert_eq!(
                policy.is_refresh_token_valid(T0, *last_used, *now),
                *expected,
                "{policy:?} last={last_used:?} now={now:?}"
            );
        }
    }

    #[test]
    fn issuing_and_expiry() {
        let table: &[(RefreshPolicy, bool, Option<Timestamp>)] = &[
            (RefreshPolicy::Infinite, true, None),
            (RefreshPolicy::Zero, false, Some(T0)),
            (RefreshPolicy::Misconfigured, false, Some(T0)),
            (RefreshPolicy::Lifetime(HOUR_MS), true, Some(at(1))),
            (RefreshPolicy::Inactivity(HOUR_MS), true, Some(at(1))),
        ];
        for (policy, issues, expiry) in table {
            assert_eq!(policy.issues_refresh_token(), *issues, "{policy:?}");
            assert_eq!(policy.expires_at(T0, None), *expiry, "{policy:?}");
        }
        assert_eq!(
            RefreshPolicy::Inactivity(HOUR_MS).expires_at(T0, Some(at(5))),
            Some(at(6))
        );
    }
}
