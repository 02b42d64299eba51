//! OAuth scopes as `commaSeparatedOauthScopes` names them (`spec/metadata.md` §9.1) and as
//! they travel in `scope` parameters and token responses (`spec/oauth-and-connect.md` §4).
//!
//! The metadata file holds **tokens** (`Api`, `RefreshToken`), not wire strings (`api`,
//! `refresh_token`). The pairing of token and wire string is by name and partly inferred; the
//! doubtful ones say so in their meaning.

use std::fmt;

macro_rules! scopes {
    ($( $variant:ident = $token:literal, $wire:literal, $meaning:literal; )*) => {
        /// One OAuth scope an External Client App can be granted.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum OauthScope {
            $( #[doc = $meaning] $variant, )*
        }

        impl OauthScope {
            /// Every scope, in the order of the documentation.
            pub const ALL: &'static [OauthScope] = &[$( OauthScope::$variant, )*];

            /// The name used in `commaSeparatedOauthScopes` (`RefreshToken`).
            pub const fn token(self) -> &'static str {
                match self {
                    $( OauthScope::$variant => $token, )*
                }
            }

            /// The scope string on the wire (`refresh_token`).
            pub const fn wire(self) -> &'static str {
                match self {
                    $( OauthScope::$variant => $wire, )*
                }
            }

            /// What the scope grants, in one line, for help texts and consent screens.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $( OauthScope::$variant => $meaning, )*
                }
            }
        }
    };
}

scopes! {
    Basic = "Basic", "id",
        "Access the identity URL service (the same as Address, Email, Phone and Profile).";
    Address = "Address", "address", "Access the user's address.";
    Email = "Email", "email", "Access the user's email address.";
    Phone = "Phone", "phone", "Access the user's phone number.";
    Profile = "Profile", "profile", "Access the user's basic profile.";
    OpenId = "OpenID", "openid", "Access the user's unique identifier and get an ID token.";
    Api = "Api", "api", "Access the user's data through the APIs (REST, SOAP, Bulk).";
    Web = "Web", "web", "Use the token in web sessions, Visualforce included.";
    Full = "Full", "full",
        "Access everything the user can access (does not imply a refresh token).";
    Chatter = "Chatter", "chatter_api", "Access only the Connect REST API resources.";
    CustomApplications = "CustomApplications", "visualforce",
        "Access custom applications and Visualforce pages.";
    CustomPermissions = "CustomPermissions", "custom_permissions",
        "Access the app's custom permissions and whether the user has each.";
    RefreshToken = "RefreshToken", "refresh_token",
        "Get a refresh token and act while the user is offline (same as OfflineAccess).";
    OfflineAccess = "OfflineAccess", "offline_access",
        "Get a refresh token and act while the user is offline (same as RefreshToken).";
    Wave = "Wave", "wave_api", "Access the CRM Analytics REST API.";
    Eclair = "Eclair", "eclair_api", "Access the Analytics Charts Geodata API.";
    Pardot = "Pardot", "pardot_api", "Access the Account Engagement (Pardot) APIs.";
    Lightning = "Lightning", "lightning", "Let a hybrid app obtain Lightning child sessions.";
    Content = "Content", "content", "Let a hybrid app obtain content child sessions.";
    Cdp = "CDP", "cdp_api", "Access the Data 360 (Data Cloud) APIs in general.";
    CdpIngest = "CDPIngest", "cdp_ingest_api", "Ingest data through the Data 360 Ingestion API.";
    CdpProfile = "CDPProfile", "cdp_profile_api", "Access Data 360 profile data.";
    CdpQuery = "CDPQuery", "cdp_query_api", "Run Data 360 queries.";
    CdpSegment = "CDPSegment", "cdp_segment_api", "Manage Data 360 segments.";
    CdpIdentityResolution = "CDPIdentityResolution", "cdp_identityresolution_api",
        "Manage Data 360 identity resolution.";
    CdpCalculatedInsight = "CDPCalculatedInsight", "cdp_calculated_insight_api",
        "Access Data 360 calculated insights.";
    DataCloudUserClaims = "DataCloudUserClaims", "datacloud_user_claims",
        "Put Data 360 user claims into tokens (wire name uncertain).";
    Chatbot = "Chatbot", "chatbot_api", "Access the Einstein Bot APIs.";
    SfApiPlatform = "SFApiPlatform", "sfap_api",
        "Access the Salesforce API Platform (Models and Agent APIs).";
    Interaction = "Interaction", "interaction_api", "Access the Interaction Service API.";
    EinsteinGpt = "EinsteinGPT", "einstein_gpt_api", "Use the generative AI features.";
    Mcp = "MCP", "mcp_api", "Access Salesforce through the Model Context Protocol.";
    Scrt = "SCRT", "scrt_api", "Access Service Cloud Real-Time (wire name uncertain).";
    PwdlessLogin = "PwdlessLogin", "pwdless_login_api",
        "Use the headless passwordless login API.";
    ForgotPassword = "ForgotPassword", "forgot_password",
        "Use the headless forgot-password API.";
    UserRegistration = "UserRegistration", "user_registration_api",
        "Use the headless user registration API.";
}

impl OauthScope {
    /// The scope with the metadata token `token`, matched exactly (Salesforce rejects
    /// `api` in a metadata file).
    pub fn from_token(token: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.token() == token)
    }

    /// The scope with the wire string `wire`, matched exactly.
    pub fn from_wire(wire: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.wire() == wire)
    }

    /// Splits a `commaSeparatedOauthScopes` value into its tokens, each trimmed and paired with
    /// the scope it names, in the order written. A blank value has no tokens; otherwise every
    /// piece between commas is returned, an empty one included, so that a checker can point at
    /// a stray comma.
    pub fn parse_list(s: &str) -> Vec<(String, Option<OauthScope>)> {
        if s.trim().is_empty() {
            return Vec::new();
        }
        s.split(',')
            .map(|piece| {
                let token = piece.trim();
                (token.to_owned(), Self::from_token(token))
            })
            .collect()
    }

    /// Writes scopes the way Salesforce does: tokens joined by a comma and a space.
    pub fn join(scopes: &[OauthScope]) -> String {
        scopes
            .iter()
            .map(|s| s.token())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for OauthScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}
