//! The enumerations of the model (`spec/metadata.md` §3), each tied to its WSDL value set in
//! [`crate::schema`] so that the two can never drift apart (a test checks they list the same
//! values in the same order).
//!
//! The enumerations of the beta plugins (screen lock, push, canvas, attest, mTLS) stay plain
//! strings in the model: nothing downstream acts on them yet.

use std::fmt;

use crate::schema::{self, EnumDef};

/// What every model enumeration can do; implemented by the `model_enum!` macro.
pub trait ModelEnum: Copy + Eq + fmt::Debug + 'static {
    /// Every value, in WSDL order.
    const ALL: &'static [Self];

    /// The WSDL value set this enumeration mirrors.
    fn schema() -> &'static EnumDef;

    /// The value as Salesforce writes it.
    fn as_str(self) -> &'static str;

    /// Reads a value: an exact match, or for the value sets that are plain strings in the WSDL
    /// (`ipRelaxationPolicyType`, `refreshTokenValidityUnit`) a match ignoring ASCII case,
    /// normalised to the canonical spelling, because Salesforce accepts those in any case.
    fn parse(s: &str) -> Option<Self> {
        let exact = Self::ALL.iter().copied().find(|v| v.as_str() == s);
        if exact.is_some() || !Self::schema().string_typed {
            return exact;
        }
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

/// Declares a model enumeration: the Rust enum with `ALL`, `as_str`, `parse`, `Display` and
/// [`ModelEnum`], from the WSDL spelling of each value.
macro_rules! model_enum {
    ($(
        $(#[$meta:meta])*
        pub enum $name:ident for $schema:path {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )*
        }
    )*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in WSDL order.
            pub const ALL: &'static [$name] = &[$( $name::$variant, )*];

            /// The value as Salesforce writes it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $wire, )*
                }
            }

            /// Reads a value as written in a metadata file (see [`ModelEnum::parse`]).
            pub fn parse(s: &str) -> Option<Self> {
                <Self as ModelEnum>::parse(s)
            }
        }

        impl ModelEnum for $name {
            const ALL: &'static [Self] = $name::ALL;

            fn schema() -> &'static EnumDef {
                &$schema
            }

            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}

model_enum! {
    /// `ExtlClntAppDistState`: whether the app stays in its org or can be packaged.
    pub enum DistributionState for schema::DIST_STATE {
        /// Works only in the org that defines it.
        Local = "Local",
        /// May go into a 2GP managed package.
        Packaged = "Packaged",
        /// Internal to Salesforce.
        Managed = "Managed",
        /// Internal to Salesforce (since v62).
        AutoInstalled = "AutoInstalled",
    }

    /// `PermittedUsersPolicyType`: who may use the app.
    pub enum PermittedUsers for schema::PERMITTED_USERS {
        /// Any user, after a consent screen.
        AllSelfAuthorized = "AllSelfAuthorized",
        /// Only users with a listed profile or permission set, without consent.
        AdminApprovedPreAuthorized = "AdminApprovedPreAuthorized",
    }

    /// `RefreshTokenPolicyType`: how long refresh tokens live (`spec/metadata.md` §9.7).
    pub enum RefreshTokenPolicyType for schema::REFRESH_TOKEN_POLICY {
        /// Valid until revoked.
        Infinite = "Infinite",
        /// Expire immediately.
        Zero = "Zero",
        /// Valid for a fixed period from issue.
        SpecificLifetime = "SpecificLifetime",
        /// Valid until unused for a period.
        SpecificInactivity = "SpecificInactivity",
    }

    /// `refreshTokenValidityUnit`, a plain string in the WSDL: matched ignoring case.
    pub enum RefreshTokenUnit for schema::REFRESH_TOKEN_UNIT {
        Days = "Days",
        Hours = "Hours",
        Months = "Months",
    }

    /// `ipRelaxationPolicyType`, a plain string in the WSDL: matched ignoring case
    /// (Salesforce itself writes `Enforce_relaxrefresh` on retrieve).
    pub enum IpRelaxation for schema::IP_RELAXATION {
        /// Enforce the org's and the user's IP restrictions.
        Enforce = "Enforce",
        /// Relax IP restrictions.
        Bypass = "Bypass",
        /// Relax IP restrictions when the user has passed a second factor.
        Bypass2Factor = "Bypass_2factor",
        /// Enforce, but relax them for refresh tokens.
        EnforceRelaxRefresh = "Enforce_RelaxRefresh",
    }

    /// `SessionSecurityLevel`: the session level the app requires.
    pub enum SessionLevel for schema::SESSION_LEVEL {
        Low = "LOW",
        Standard = "STANDARD",
        HighAssurance = "HIGH_ASSURANCE",
    }

    /// `PolicyAction`: what happens when the session level is too low.
    pub enum PolicyAction for schema::POLICY_ACTION {
        Block = "Block",
        RaiseSessionLevel = "RaiseSessionLevel",
        /// Added after v66.
        StepUpMfa = "StepUpMFA",
    }

    /// `JWTSessionTimeoutType`: where a JWT access token's lifetime comes from.
    pub enum JwtSessionTimeoutType for schema::JWT_TIMEOUT_TYPE {
        /// The profile's, or else the org's, session timeout.
        UserSession = "UserSession",
        /// The minutes in the matching `*JwtTimeout` field.
        Custom = "Custom",
    }

    /// `ExtlClntAppStartPage`: where users land when they open the app.
    pub enum StartPage for schema::START_PAGE {
        None = "None",
        /// The `startUrl` of the app policies.
        Custom = "Custom",
        /// The `startUrl` of the OAuth policies.
        OAuth = "OAuth",
        /// Since v63.
        Saml = "SAML",
    }

    /// `ExtlClntAppNameIdFormatType`: the SAML `NameID` format.
    pub enum NameIdFormat for schema::NAME_ID_FORMAT {
        Unspecified = "Unspecified",
        EmailAddress = "EmailAddress",
        Persistent = "Persistent",
        Transient = "Transient",
    }

    /// `ExtlClntAppSamlSignAlgoType`: the digest of SAML response signatures.
    pub enum SamlSigningAlgorithm for schema::SAML_SIGN_ALGO {
        Sha1 = "SHA1",
        Sha256 = "SHA256",
    }

    /// `ExtlClntAppSamlEncryptType`: the cipher for encrypted assertions.
    pub enum SamlEncryptionType for schema::SAML_ENCRYPT {
        Aes128 = "AES_128",
        Aes256 = "AES_256",
    }

    /// `ExtlClntAppSamlBindingType`: the binding of SAML single logout.
    pub enum SamlBinding for schema::SAML_BINDING {
        RedirectBinding = "RedirectBinding",
        PostBinding = "PostBinding",
    }

    /// `ExtlClntAppSamlSubjectType`: which user value becomes the SAML subject.
    pub enum SamlSubjectType for schema::SAML_SUBJECT {
        Username = "Username",
        FederationId = "FederationId",
        /// The 15-character user id.
        UserId = "UserId",
        /// In the WSDL but undocumented.
        SpokeId = "SpokeId",
        /// The user field named by `subjectCustomAttribute`.
        CustomAttribute = "CustomAttribute",
        PersistentId = "PersistentId",
    }
}
