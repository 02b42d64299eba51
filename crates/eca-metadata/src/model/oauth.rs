//! The OAuth plugin's settings: the packageable local settings (`ExtlClntAppOauthSettings`,
//! `spec/metadata.md` §2.2) and the source-org consumer (`ExtlClntAppGlobalOauthSettings`, §2.3).

use crate::catalog::MetadataType;
use crate::schema;
use crate::xml::Element;

use super::common::{CustomAttribute, IpRange};
use super::fields::{
    Out, extra, get_bool, get_int, get_list, get_node, get_required, get_secret, get_str, text,
};
use super::scope::OauthScope;
use super::secret::Secret;

/// The developer's OAuth settings: scopes, custom attributes, trusted IP ranges and the link
/// to the consumer. These travel in packages.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OauthSettings {
    pub full_name: String,
    /// `externalClientApplication`: the header's API name.
    pub app: String,
    pub label: Option<String>,
    pub are_attributes_included_in_asset_token: Option<bool>,
    pub are_custom_perms_included_in_asset_token: Option<bool>,
    pub asset_token_audiences: Option<String>,
    /// The name of the certificate that signs asset tokens.
    pub asset_token_signing_certificate: Option<String>,
    pub asset_token_validity: Option<i64>,
    pub client_assertion_certificate: Option<String>,
    /// `commaSeparatedCustomScopes` as written.
    pub custom_scopes: Option<String>,
    /// `commaSeparatedOauthScopes`, in the order written; unknown tokens are left out (the
    /// validator reports them).
    pub scopes: Vec<OauthScope>,
    pub custom_attributes: Vec<CustomAttribute>,
    pub is_first_party_app_enabled: Option<bool>,
    /// `<org id>:<888 consumer id>`: the consumer these settings use (`spec/metadata.md` §4.2).
    pub oauth_link: Option<String>,
    pub single_logout_url: Option<String>,
    pub trusted_ip_ranges: Vec<IpRange>,
    pub extra: Vec<Element>,
}

impl OauthSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        let scopes = text(root, "commaSeparatedOauthScopes")
            .map(|s| {
                OauthScope::parse_list(s)
                    .into_iter()
                    .filter_map(|(_, scope)| scope)
                    .collect()
            })
            .unwrap_or_default();
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            are_attributes_included_in_asset_token: get_bool(
                root,
                "areAttributesIncludedInAssetToken",
            ),
            are_custom_perms_included_in_asset_token: get_bool(
                root,
                "areCustomPermsIncludedInAssetToken",
            ),
            asset_token_audiences: get_str(root, "assetTokenAudiences"),
            asset_token_signing_certificate: get_str(root, "assetTokenSigningCertificate"),
            asset_token_validity: get_int(root, "assetTokenValidity"),
            client_assertion_certificate: get_str(root, "clientAssertionCertificate"),
            custom_scopes: get_str(root, "commaSeparatedCustomScopes"),
            scopes,
            custom_attributes: get_list(root, "customAttributes", CustomAttribute::read),
            is_first_party_app_enabled: get_bool(root, "isFirstPartyAppEnabled"),
            oauth_link: get_str(root, "oauthLink"),
            single_logout_url: get_str(root, "singleLogoutUrl"),
            trusted_ip_ranges: get_list(root, "trustedIpRanges", IpRange::read),
            extra: extra(root, &schema::OAUTH_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.bool(
            "areAttributesIncludedInAssetToken",
            self.are_attributes_included_in_asset_token,
        );
        o.bool(
            "areCustomPermsIncludedInAssetToken",
            self.are_custom_perms_included_in_asset_token,
        );
        o.str("assetTokenAudiences", self.asset_token_audiences.as_deref());
        o.str(
            "assetTokenSigningCertificate",
            self.asset_token_signing_certificate.as_deref(),
        );
        o.int("assetTokenValidity", self.asset_token_validity);
        o.str(
            "clientAssertionCertificate",
            self.client_assertion_certificate.as_deref(),
        );
        o.str("commaSeparatedCustomScopes", self.custom_scopes.as_deref());
        if !self.scopes.is_empty() {
            o.str(
                "commaSeparatedOauthScopes",
                Some(&OauthScope::join(&self.scopes)),
            );
        }
        o.nodes(
            "customAttributes",
            &self.custom_attributes,
            CustomAttribute::write,
        );
        o.required("externalClientApplication", &self.app);
        o.bool("isFirstPartyAppEnabled", self.is_first_party_app_enabled);
        o.str("label", self.label.as_deref());
        o.str("oauthLink", self.oauth_link.as_deref());
        o.str("singleLogoutUrl", self.single_logout_url.as_deref());
        o.nodes("trustedIpRanges", &self.trusted_ip_ranges, IpRange::write);
        o.extra(&self.extra);
        o.finish(MetadataType::OauthSettings.name())
    }

    /// The custom scope names of `commaSeparatedCustomScopes`, trimmed.
    pub fn custom_scope_names(&self) -> Vec<&str> {
        super::fields::split_commas(self.custom_scopes.as_deref())
    }

    pub fn has_scope(&self, scope: OauthScope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// `ExternalAppIdTokenConfig`: what goes into ID tokens.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdTokenConfig {
    /// Extra `aud` values; the client id is always included.
    pub audience: Option<String>,
    pub include_attributes: Option<bool>,
    pub include_custom_permissions: Option<bool>,
    pub include_standard_claims: Option<bool>,
    /// 1–720 minutes, default 2.
    pub validity_in_minutes: Option<i64>,
    /// Elements this model does not know, kept for the round trip.
    pub extra: Vec<Element>,
}

impl IdTokenConfig {
    fn read(el: &Element) -> Self {
        Self {
            audience: get_str(el, "idTokenAudience"),
            include_attributes: get_bool(el, "idTokenIncludeAttributes"),
            include_custom_permissions: get_bool(el, "idTokenIncludeCustomPermissions"),
            include_standard_claims: get_bool(el, "idTokenIncludeStandardClaims"),
            validity_in_minutes: get_int(el, "idTokenValidityInMinutes"),
            extra: extra(el, &schema::ID_TOKEN_CONFIG),
        }
    }

    fn write(&self) -> Vec<Element> {
        let mut o = Out::new();
        o.str("idTokenAudience", self.audience.as_deref());
        o.bool("idTokenIncludeAttributes", self.include_attributes);
        o.bool(
            "idTokenIncludeCustomPermissions",
            self.include_custom_permissions,
        );
        o.bool("idTokenIncludeStandardClaims", self.include_standard_claims);
        o.int("idTokenValidityInMinutes", self.validity_in_minutes);
        o.extra(&self.extra);
        o.into_children()
    }
}

/// The OAuth consumer: callback URLs, key and secret, JWT certificate and the developer-side
/// flow switches. Never packaged; holds secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GlobalOauthSettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// One or more redirect URIs, separated by newlines; see [`Self::callback_urls`].
    pub callback_url: Option<String>,
    /// The certificate whose presence turns on the JWT bearer flow, as written (base64 body
    /// or PEM; inner newlines kept).
    pub certificate: Option<String>,
    /// The OAuth `client_id`; readable, not a secret.
    pub consumer_key: Option<String>,
    /// The OAuth `client_secret`.
    pub consumer_secret: Option<Secret>,
    pub id_token_config: Option<IdTokenConfig>,
    pub is_client_credentials_flow_enabled: Option<bool>,
    pub is_code_cred_flow_enabled: Option<bool>,
    pub is_code_cred_post_only: Option<bool>,
    pub is_consumer_secret_optional: Option<bool>,
    pub is_dpop_enabled: Option<bool>,
    pub is_device_flow_enabled: Option<bool>,
    pub is_enforce_refresh_token_ttl: Option<bool>,
    pub is_introspect_all_tokens: Option<bool>,
    pub is_mtls_enabled: Option<bool>,
    pub is_named_user_jwt_enabled: Option<bool>,
    pub is_pkce_required: Option<bool>,
    pub is_refresh_token_rotation_enabled: Option<bool>,
    pub is_secret_required_for_refresh_token: Option<bool>,
    pub is_secret_required_for_token_exchange: Option<bool>,
    pub is_token_exchange_enabled: Option<bool>,
    pub should_rotate_consumer_key: Option<bool>,
    pub should_rotate_consumer_secret: Option<bool>,
    pub extra: Vec<Element>,
}

impl GlobalOauthSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            callback_url: get_str(root, "callbackUrl"),
            certificate: get_str(root, "certificate"),
            consumer_key: get_str(root, "consumerKey"),
            consumer_secret: get_secret(root, "consumerSecret"),
            id_token_config: get_node(root, "idTokenConfig", IdTokenConfig::read),
            is_client_credentials_flow_enabled: get_bool(root, "isClientCredentialsFlowEnabled"),
            is_code_cred_flow_enabled: get_bool(root, "isCodeCredFlowEnabled"),
            is_code_cred_post_only: get_bool(root, "isCodeCredPostOnly"),
            is_consumer_secret_optional: get_bool(root, "isConsumerSecretOptional"),
            is_dpop_enabled: get_bool(root, "isDPopEnabled"),
            is_device_flow_enabled: get_bool(root, "isDeviceFlowEnabled"),
            is_enforce_refresh_token_ttl: get_bool(root, "isEnforceRefreshTokenTTL"),
            is_introspect_all_tokens: get_bool(root, "isIntrospectAllTokens"),
            is_mtls_enabled: get_bool(root, "isMtlsEnabled"),
            is_named_user_jwt_enabled: get_bool(root, "isNamedUserJwtEnabled"),
            is_pkce_required: get_bool(root, "isPkceRequired"),
            is_refresh_token_rotation_enabled: get_bool(root, "isRefreshTokenRotationEnabled"),
            is_secret_required_for_refresh_token: get_bool(root, "isSecretRequiredForRefreshToken"),
            is_secret_required_for_token_exchange: get_bool(
                root,
                "isSecretRequiredForTokenExchange",
            ),
            is_token_exchange_enabled: get_bool(root, "isTokenExchangeEnabled"),
            should_rotate_consumer_key: get_bool(root, "shouldRotateConsumerKey"),
            should_rotate_consumer_secret: get_bool(root, "shouldRotateConsumerSecret"),
            extra: extra(root, &schema::GLOBAL_OAUTH_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("callbackUrl", self.callback_url.as_deref());
        o.str("certificate", self.certificate.as_deref());
        o.str("consumerKey", self.consumer_key.as_deref());
        o.secret("consumerSecret", self.consumer_secret.as_ref());
        o.required("externalClientApplication", &self.app);
        if let Some(config) = &self.id_token_config {
            o.node("idTokenConfig", config.write());
        }
        o.bool(
            "isClientCredentialsFlowEnabled",
            self.is_client_credentials_flow_enabled,
        );
        o.bool("isCodeCredFlowEnabled", self.is_code_cred_flow_enabled);
        o.bool("isCodeCredPostOnly", self.is_code_cred_post_only);
        o.bool("isConsumerSecretOptional", self.is_consumer_secret_optional);
        o.bool("isDPopEnabled", self.is_dpop_enabled);
        o.bool("isDeviceFlowEnabled", self.is_device_flow_enabled);
        o.bool(
            "isEnforceRefreshTokenTTL",
            self.is_enforce_refresh_token_ttl,
        );
        o.bool("isIntrospectAllTokens", self.is_introspect_all_tokens);
        o.bool("isMtlsEnabled", self.is_mtls_enabled);
        o.bool("isNamedUserJwtEnabled", self.is_named_user_jwt_enabled);
        o.bool("isPkceRequired", self.is_pkce_required);
        o.bool(
            "isRefreshTokenRotationEnabled",
            self.is_refresh_token_rotation_enabled,
        );
        o.bool(
            "isSecretRequiredForRefreshToken",
            self.is_secret_required_for_refresh_token,
        );
        o.bool(
            "isSecretRequiredForTokenExchange",
            self.is_secret_required_for_token_exchange,
        );
        o.bool("isTokenExchangeEnabled", self.is_token_exchange_enabled);
        o.str("label", self.label.as_deref());
        o.bool("shouldRotateConsumerKey", self.should_rotate_consumer_key);
        o.bool(
            "shouldRotateConsumerSecret",
            self.should_rotate_consumer_secret,
        );
        o.extra(&self.extra);
        o.finish(MetadataType::GlobalOauthSettings.name())
    }

    /// The registered redirect URIs: `callbackUrl` split on newlines, each trimmed, blank
    /// lines skipped (`spec/metadata.md` §9.2). Matching against them is exact.
    pub fn callback_urls(&self) -> Vec<&str> {
        self.callback_url
            .as_deref()
            .map(|v| v.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
            .unwrap_or_default()
    }

    /// Whether the JWT bearer flow is on: it is whenever a certificate is set (§9.3).
    pub fn jwt_bearer_enabled(&self) -> bool {
        self.certificate
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty())
    }

    /// `isPkceRequired`; the documented default is `true`.
    pub fn pkce_required(&self) -> bool {
        self.is_pkce_required.unwrap_or(true)
    }

    /// `isConsumerSecretOptional` (a public client); default `false`.
    pub fn consumer_secret_optional(&self) -> bool {
        self.is_consumer_secret_optional.unwrap_or(false)
    }

    /// `isSecretRequiredForRefreshToken`; the documented default is `true`.
    pub fn secret_required_for_refresh_token(&self) -> bool {
        self.is_secret_required_for_refresh_token.unwrap_or(true)
    }

    /// `isSecretRequiredForTokenExchange`; no documented default, the platform writes `true`
    /// into the settings it generates (`spec/metadata.md` §5.2), and requiring it is safe.
    pub fn secret_required_for_token_exchange(&self) -> bool {
        self.is_secret_required_for_token_exchange.unwrap_or(true)
    }

    /// `isClientCredentialsFlowEnabled`; default `false`. The OAuth policies must allow the
    /// flow too (§9.4).
    pub fn client_credentials_enabled(&self) -> bool {
        self.is_client_credentials_flow_enabled.unwrap_or(false)
    }

    /// `isDeviceFlowEnabled`; default `false`.
    pub fn device_flow_enabled(&self) -> bool {
        self.is_device_flow_enabled.unwrap_or(false)
    }

    /// `isTokenExchangeEnabled`; default `false`.
    pub fn token_exchange_enabled(&self) -> bool {
        self.is_token_exchange_enabled.unwrap_or(false)
    }

    /// `isCodeCredFlowEnabled`; default `false`.
    pub fn code_cred_flow_enabled(&self) -> bool {
        self.is_code_cred_flow_enabled.unwrap_or(false)
    }

    /// `isRefreshTokenRotationEnabled`; default `false`.
    pub fn refresh_token_rotation_enabled(&self) -> bool {
        self.is_refresh_token_rotation_enabled.unwrap_or(false)
    }

    /// `isNamedUserJwtEnabled` (JWT-format access tokens); default `false`.
    pub fn named_user_jwt_enabled(&self) -> bool {
        self.is_named_user_jwt_enabled.unwrap_or(false)
    }

    /// `isIntrospectAllTokens`; default `false`.
    pub fn introspect_all_tokens(&self) -> bool {
        self.is_introspect_all_tokens.unwrap_or(false)
    }

    /// `idTokenValidityInMinutes`; default 2.
    pub fn id_token_validity_minutes(&self) -> i64 {
        self.id_token_config
            .as_ref()
            .and_then(|c| c.validity_in_minutes)
            .unwrap_or(2)
    }
}
