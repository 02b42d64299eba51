//! The admin-owned policies: OAuth policies (`ExtlClntAppOauthConfigurablePolicies`,
//! `spec/metadata.md` §2.4) and the app and plugin switches (`ExtlClntAppConfigurablePolicies`,
//! §2.5, §7).

use crate::catalog::MetadataType;
use crate::schema;
use crate::version::ApiVersion;
use crate::xml::Element;

use super::common::CustomAttribute;
use super::enums::{
    IpRelaxation, JwtSessionTimeoutType, PermittedUsers, PolicyAction, RefreshTokenPolicyType,
    RefreshTokenUnit, SessionLevel, StartPage,
};
use super::fields::{
    Out, extra, get_bool, get_enum, get_int, get_list, get_required, get_str, split_commas,
};

/// An org admin's OAuth policies for one app: who may use it, how long tokens live, which
/// flows the org allows, and the run-as users.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OauthPolicies {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// API name of an Apex class extending `Auth.ExternalClientAppOauthHandler`.
    pub apex_handler: Option<String>,
    /// Username of the client credentials flow's run-as user.
    pub client_credentials_flow_user: Option<String>,
    /// `commaSeparatedCustomScopes` as written; see [`Self::custom_scopes`].
    pub comma_separated_custom_scopes: Option<String>,
    /// `commaSeparatedPermissionSet` as written; see [`Self::permission_sets`].
    pub comma_separated_permission_set: Option<String>,
    /// `commaSeparatedProfile` as written; see [`Self::profiles`].
    pub comma_separated_profile: Option<String>,
    pub custom_attributes: Vec<CustomAttribute>,
    /// Username the Apex handler runs as.
    pub execute_handler_as: Option<String>,
    pub guest_jwt_session_timeout_type: Option<JwtSessionTimeoutType>,
    /// Minutes.
    pub guest_jwt_timeout: Option<i64>,
    pub ip_relaxation: Option<IpRelaxation>,
    pub is_client_credentials_flow_enabled: Option<bool>,
    pub is_guest_code_cred_flow_enabled: Option<bool>,
    /// Only in API 61–63.
    pub is_named_user_jwt_enabled: Option<bool>,
    pub is_token_exchange_flow_enabled: Option<bool>,
    pub named_user_jwt_session_timeout_type: Option<JwtSessionTimeoutType>,
    /// Minutes.
    pub named_user_jwt_timeout: Option<i64>,
    pub permitted_users: Option<PermittedUsers>,
    pub policy_action: Option<PolicyAction>,
    pub refresh_token_policy: Option<RefreshTokenPolicyType>,
    pub refresh_token_validity_period: Option<i64>,
    pub refresh_token_validity_unit: Option<RefreshTokenUnit>,
    pub required_session_level: Option<SessionLevel>,
    /// Minutes; applies to opaque tokens only.
    pub session_timeout_in_minutes: Option<i64>,
    pub single_logout_url: Option<String>,
    pub start_url: Option<String>,
    pub extra: Vec<Element>,
}

impl OauthPolicies {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            apex_handler: get_str(root, "apexHandler"),
            client_credentials_flow_user: get_str(root, "clientCredentialsFlowUser"),
            comma_separated_custom_scopes: get_str(root, "commaSeparatedCustomScopes"),
            comma_separated_permission_set: get_str(root, "commaSeparatedPermissionSet"),
            comma_separated_profile: get_str(root, "commaSeparatedProfile"),
            custom_attributes: get_list(root, "customAttributes", CustomAttribute::read),
            execute_handler_as: get_str(root, "executeHandlerAs"),
            guest_jwt_session_timeout_type: get_enum(root, "guestJwtSessionTimeoutType"),
            guest_jwt_timeout: get_int(root, "guestJwtTimeout"),
            ip_relaxation: get_enum(root, "ipRelaxationPolicyType"),
            is_client_credentials_flow_enabled: get_bool(root, "isClientCredentialsFlowEnabled"),
            is_guest_code_cred_flow_enabled: get_bool(root, "isGuestCodeCredFlowEnabled"),
            is_named_user_jwt_enabled: get_bool(root, "isNamedUserJwtEnabled"),
            is_token_exchange_flow_enabled: get_bool(root, "isTokenExchangeFlowEnabled"),
            named_user_jwt_session_timeout_type: get_enum(root, "namedUserJwtSessionTimeoutType"),
            named_user_jwt_timeout: get_int(root, "namedUserJwtTimeout"),
            permitted_users: get_enum(root, "permittedUsersPolicyType"),
            policy_action: get_enum(root, "policyAction"),
            refresh_token_policy: get_enum(root, "refreshTokenPolicyType"),
            refresh_token_validity_period: get_int(root, "refreshTokenValidityPeriod"),
            refresh_token_validity_unit: get_enum(root, "refreshTokenValidityUnit"),
            required_session_level: get_enum(root, "requiredSessionLevel"),
            session_timeout_in_minutes: get_int(root, "sessionTimeoutInMinutes"),
            single_logout_url: get_str(root, "singleLogoutUrl"),
            start_url: get_str(root, "startUrl"),
            extra: extra(root, &schema::OAUTH_POLICIES),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("apexHandler", self.apex_handler.as_deref());
        o.str(
            "clientCredentialsFlowUser",
            self.client_credentials_flow_user.as_deref(),
        );
        o.str(
            "commaSeparatedCustomScopes",
            self.comma_separated_custom_scopes.as_deref(),
        );
        o.str(
            "commaSeparatedPermissionSet",
            self.comma_separated_permission_set.as_deref(),
        );
        o.str(
            "commaSeparatedProfile",
            self.comma_separated_profile.as_deref(),
        );
        o.nodes(
            "customAttributes",
            &self.custom_attributes,
            CustomAttribute::write,
        );
        o.str("executeHandlerAs", self.execute_handler_as.as_deref());
        o.required("externalClientApplication", &self.app);
        o.enumeration(
            "guestJwtSessionTimeoutType",
            self.guest_jwt_session_timeout_type,
        );
        o.int("guestJwtTimeout", self.guest_jwt_timeout);
        o.enumeration("ipRelaxationPolicyType", self.ip_relaxation);
        o.bool(
            "isClientCredentialsFlowEnabled",
            self.is_client_credentials_flow_enabled,
        );
        o.bool(
            "isGuestCodeCredFlowEnabled",
            self.is_guest_code_cred_flow_enabled,
        );
        o.bool("isNamedUserJwtEnabled", self.is_named_user_jwt_enabled);
        o.bool(
            "isTokenExchangeFlowEnabled",
            self.is_token_exchange_flow_enabled,
        );
        o.str("label", self.label.as_deref());
        o.enumeration(
            "namedUserJwtSessionTimeoutType",
            self.named_user_jwt_session_timeout_type,
        );
        o.int("namedUserJwtTimeout", self.named_user_jwt_timeout);
        o.enumeration("permittedUsersPolicyType", self.permitted_users);
        o.enumeration("policyAction", self.policy_action);
        o.enumeration("refreshTokenPolicyType", self.refresh_token_policy);
        o.int(
            "refreshTokenValidityPeriod",
            self.refresh_token_validity_period,
        );
        o.enumeration("refreshTokenValidityUnit", self.refresh_token_validity_unit);
        o.enumeration("requiredSessionLevel", self.required_session_level);
        o.int("sessionTimeoutInMinutes", self.session_timeout_in_minutes);
        o.str("singleLogoutUrl", self.single_logout_url.as_deref());
        o.str("startUrl", self.start_url.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::OauthPolicies.name())
    }

    /// The policy the platform generates on an app's first deploy (`spec/metadata.md` §5.2),
    /// named `name` (by convention `<OAuthSettingsName>_defaultPolicy`), for API `version`:
    /// `isNamedUserJwtEnabled` exists, and is written `false`, only in API 61–63.
    pub fn default_for(app: &str, name: &str, version: ApiVersion) -> Self {
        let named_user_jwt = (61..=63).contains(&version.major()).then_some(false);
        Self {
            full_name: name.to_owned(),
            app: app.to_owned(),
            label: Some(name.to_owned()),
            ip_relaxation: Some(IpRelaxation::Enforce),
            is_client_credentials_flow_enabled: Some(false),
            is_guest_code_cred_flow_enabled: Some(false),
            is_named_user_jwt_enabled: named_user_jwt,
            is_token_exchange_flow_enabled: Some(false),
            permitted_users: Some(PermittedUsers::AllSelfAuthorized),
            refresh_token_policy: Some(RefreshTokenPolicyType::SpecificLifetime),
            refresh_token_validity_period: Some(365),
            refresh_token_validity_unit: Some(RefreshTokenUnit::Days),
            required_session_level: Some(SessionLevel::Standard),
            ..Self::default()
        }
    }

    /// The pre-authorized permission sets (API names), trimmed.
    pub fn permission_sets(&self) -> Vec<&str> {
        split_commas(self.comma_separated_permission_set.as_deref())
    }

    /// The pre-authorized profiles (names such as `System Administrator`), trimmed.
    pub fn profiles(&self) -> Vec<&str> {
        split_commas(self.comma_separated_profile.as_deref())
    }

    /// The custom scope names, trimmed.
    pub fn custom_scopes(&self) -> Vec<&str> {
        split_commas(self.comma_separated_custom_scopes.as_deref())
    }

    /// `isClientCredentialsFlowEnabled`; default `false`.
    pub fn client_credentials_enabled(&self) -> bool {
        self.is_client_credentials_flow_enabled.unwrap_or(false)
    }

    /// `isTokenExchangeFlowEnabled`; default `false`.
    pub fn token_exchange_enabled(&self) -> bool {
        self.is_token_exchange_flow_enabled.unwrap_or(false)
    }

    /// `permittedUsersPolicyType`; absent means everyone may self-authorize.
    pub fn permitted(&self) -> PermittedUsers {
        self.permitted_users
            .unwrap_or(PermittedUsers::AllSelfAuthorized)
    }
}

/// One plugin of an app, as switched in the app policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Plugin {
    Oauth,
    Saml,
    Canvas,
    Mobile,
    Notification,
    Push,
    Attest,
}

impl Plugin {
    pub const ALL: &'static [Plugin] = &[
        Plugin::Oauth,
        Plugin::Saml,
        Plugin::Canvas,
        Plugin::Mobile,
        Plugin::Notification,
        Plugin::Push,
        Plugin::Attest,
    ];

    /// The element that switches the plugin (`isOauthPluginEnabled`).
    pub const fn element(self) -> &'static str {
        match self {
            Plugin::Oauth => "isOauthPluginEnabled",
            Plugin::Saml => "isSamlPluginEnabled",
            Plugin::Canvas => "isCanvasPluginEnabled",
            Plugin::Mobile => "isMobilePluginEnabled",
            Plugin::Notification => "isNotificationPluginEnabled",
            Plugin::Push => "isPushPluginEnabled",
            Plugin::Attest => "isAttestPluginEnabled",
        }
    }
}

/// The admin's switches for the app and each plugin, and the start page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AppPolicies {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// The master switch: `false` turns every plugin off.
    pub is_enabled: Option<bool>,
    pub is_oauth_plugin_enabled: Option<bool>,
    pub is_saml_plugin_enabled: Option<bool>,
    pub is_canvas_plugin_enabled: Option<bool>,
    pub is_mobile_plugin_enabled: Option<bool>,
    pub is_notification_plugin_enabled: Option<bool>,
    pub is_push_plugin_enabled: Option<bool>,
    pub is_attest_plugin_enabled: Option<bool>,
    pub start_page: Option<StartPage>,
    /// The custom start URL, used with `startPage` `Custom`.
    pub start_url: Option<String>,
    pub extra: Vec<Element>,
}

impl AppPolicies {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            is_enabled: get_bool(root, "isEnabled"),
            is_oauth_plugin_enabled: get_bool(root, Plugin::Oauth.element()),
            is_saml_plugin_enabled: get_bool(root, Plugin::Saml.element()),
            is_canvas_plugin_enabled: get_bool(root, Plugin::Canvas.element()),
            is_mobile_plugin_enabled: get_bool(root, Plugin::Mobile.element()),
            is_notification_plugin_enabled: get_bool(root, Plugin::Notification.element()),
            is_push_plugin_enabled: get_bool(root, Plugin::Push.element()),
            is_attest_plugin_enabled: get_bool(root, Plugin::Attest.element()),
            start_page: get_enum(root, "startPage"),
            start_url: get_str(root, "startUrl"),
            extra: extra(root, &schema::APP_POLICIES),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.required("externalClientApplication", &self.app);
        o.bool("isEnabled", self.is_enabled);
        for plugin in Plugin::ALL {
            o.bool(plugin.element(), self.plugin_flag(*plugin));
        }
        o.str("label", self.label.as_deref());
        o.enumeration("startPage", self.start_page);
        o.str("startUrl", self.start_url.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::AppPolicies.name())
    }

    /// The policies the platform generates on an app's first deploy (`spec/metadata.md` §5.2),
    /// named `name` (by convention `<AppName>_defaultPolicy`).
    pub fn default_for(app: &str, name: &str) -> Self {
        Self {
            full_name: name.to_owned(),
            app: app.to_owned(),
            label: Some(name.to_owned()),
            is_enabled: Some(true),
            is_oauth_plugin_enabled: Some(true),
            start_page: Some(StartPage::None),
            ..Self::default()
        }
    }

    /// The plugin's own switch as written.
    pub fn plugin_flag(&self, plugin: Plugin) -> Option<bool> {
        match plugin {
            Plugin::Oauth => self.is_oauth_plugin_enabled,
            Plugin::Saml => self.is_saml_plugin_enabled,
            Plugin::Canvas => self.is_canvas_plugin_enabled,
            Plugin::Mobile => self.is_mobile_plugin_enabled,
            Plugin::Notification => self.is_notification_plugin_enabled,
            Plugin::Push => self.is_push_plugin_enabled,
            Plugin::Attest => self.is_attest_plugin_enabled,
        }
    }

    /// Whether the plugin is on (`spec/metadata.md` §7): never when the app is switched off,
    /// otherwise its own switch, which defaults to on.
    pub fn plugin_enabled(&self, plugin: Plugin) -> bool {
        self.is_enabled != Some(false) && self.plugin_flag(plugin).unwrap_or(true)
    }

    /// The master switch; default on.
    pub fn app_enabled(&self) -> bool {
        self.is_enabled.unwrap_or(true)
    }
}
