//! The device flow's building blocks (RFC 8628; `spec/oauth-and-connect.md` §1.9 E): the
//! device authorization response in Salesforce's and RFC 8628's shapes, and the decision a
//! poll gets.
//!
//! Decisions where Salesforce is silent (spec §8 item 6):
//! - Device codes live [`DEVICE_CODE_MINUTES`] (the CLI gives the user about ten minutes) and
//!   are polled every [`INTERVAL_SECS`] seconds; a poll sooner than the interval after the
//!   previous one is `slow_down` (RFC 8628 §3.5), and the client should add five seconds.
//! - Salesforce's form (`response_type=device_code` on the token endpoint) answers with the
//!   four keys @salesforce/core reads (`device_code`, `user_code`, `verification_uri`,
//!   `interval`); the RFC 8628 endpoint adds `expires_in` and `verification_uri_complete`.

use eca_core::{Secret, Timestamp};
use serde::Serialize;

use crate::error::OAuthError;
use crate::response::{ResponseFormat, render_urlencoded, render_xml};

/// How long a device code may be approved and polled.
pub const DEVICE_CODE_MINUTES: i64 = 10;
/// The polling interval given to clients.
pub const INTERVAL_SECS: i64 = 5;

/// The answer to a device authorization request (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceAuthorization {
    #[serde(serialize_with = "expose")]
    pub device_code: Secret,
    /// `BCDF-GHJK`.
    pub user_code: String,
    pub verification_uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification_uri_complete: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    pub interval: i64,
}

fn expose<S: serde::Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

impl DeviceAuthorization {
    /// The body in `format`.
    pub fn render(&self, format: ResponseFormat) -> String {
        let interval = self.interval.to_string();
        let expires = self.expires_in.map(|e| e.to_string());
        let mut fields = vec![
            ("device_code", self.device_code.expose()),
            ("user_code", self.user_code.as_str()),
            ("verification_uri", self.verification_uri.as_str()),
        ];
        if let Some(v) = &self.verification_uri_complete {
            fields.push(("verification_uri_complete", v));
        }
        if let Some(e) = &expires {
            fields.push(("expires_in", e));
        }
        fields.push(("interval", &interval));
        match format {
            ResponseFormat::Json => serde_json::to_string(self).unwrap_or_default(),
            ResponseFormat::Urlencoded => render_urlencoded(&fields),
            ResponseFormat::Xml => render_xml(&fields),
        }
    }
}

/// Where a device code stands, as the poll sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    Pending,
    Approved,
    Denied,
    Consumed,
}

/// What a poll at `now` gets (RFC 8628 §3.5): `Ok(())` means tokens may be issued.
pub fn poll_outcome(
    state: DeviceState,
    expires_at: Timestamp,
    last_polled_at: Option<Timestamp>,
    interval_secs: i64,
    now: Timestamp,
) -> Result<(), OAuthError> {
    if now >= expires_at {
        return Err(OAuthError::ExpiredDeviceCode);
    }
    match state {
        DeviceState::Approved => Ok(()),
        DeviceState::Denied => Err(OAuthError::AccessDenied),
        // A spent code is as good as unknown.
        DeviceState::Consumed => Err(OAuthError::InvalidAuthorizationCode),
        DeviceState::Pending => {
            let too_soon = last_polled_at
                .is_some_and(|last| now.millis() - last.millis() < interval_secs * 1000);
            if too_soon {
                Err(OAuthError::SlowDown)
            } else {
                Err(OAuthError::AuthorizationPending)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polls() {
        let t = Timestamp::from_secs(1000);
        let end = t.plus_secs(600);
        let table = [
            (
                DeviceState::Pending,
                None,
                Err(OAuthError::AuthorizationPending),
            ),
            (
                DeviceState::Pending,
                Some(t.plus_secs(-5)),
                Err(OAuthError::AuthorizationPending),
            ),
            (
                DeviceState::Pending,
                Some(t.plus_secs(-4)),
                Err(OAuthError::SlowDown),
            ),
            (DeviceState::Approved, Some(t), Ok(())),
            (DeviceState::Denied, None, Err(OAuthError::AccessDenied)),
            (
                DeviceState::Consumed,
                None,
                Err(OAuthError::InvalidAuthorizationCode),
            ),
        ];
        for (state, last, expected) in table {
            assert_eq!(
                poll_outcome(state, end, last, 5, t),
                expected,
                "{state:?} {last:?}"
            );
        }
        assert_eq!(
            poll_outcome(DeviceState::Approved, end, None, 5, end),
            Err(OAuthError::ExpiredDeviceCode)
        );
    }

    #[test]
    fn both_shapes_render() {
        let salesforce = DeviceAuthorization {
            device_code: Secret::new("dc"),
            user_code: "BCDF-GHJK".into(),
            verification_uri: "https://i/setup/connect".into(),
            verification_uri_complete: None,
            expires_in: None,
            interval: 5,
        };
        assert_eq!(
            salesforce.render(ResponseFormat::Json),
            r#"{"device_code":"dc","user_code":"BCDF-GHJK","verification_uri":"https://i/setup/connect","interval":5}"#
        );
        let rfc = DeviceAuthorization {
            verification_uri_complete: Some("https://i/setup/connect?user_code=BCDF-GHJK".into()),
            expires_in: Some(600),
            ..salesforce
        };
        assert_eq!(
            rfc.render(ResponseFormat::Urlencoded),
            "device_code=dc&user_code=BCDF-GHJK&verification_uri=https%3A%2F%2Fi%2Fsetup%2Fconnect&verification_uri_complete=https%3A%2F%2Fi%2Fsetup%2Fconnect%3Fuser_code%3DBCDF-GHJK&expires_in=600&interval=5"
        );
    }
}
