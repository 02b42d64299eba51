//! The mobile plugins, in beta (`spec/metadata.md` §2.7): mobile settings and policies,
//! notification settings, push settings and policies. Their enumerations stay strings.

use crate::catalog::MetadataType;
use crate::schema;
use crate::xml::Element;

use super::fields::{Out, extra, get_bool, get_list, get_node, get_required, get_secret, get_str};
use super::secret::Secret;

/// `ExtlClntAppMobileSettings`: the developer's mobile switches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MobileSettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// Required by the schema.
    pub is_screen_lock_enabled: Option<bool>,
    pub extra: Vec<Element>,
}

impl MobileSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            is_screen_lock_enabled: get_bool(root, "isScreenLockEnabled"),
            extra: extra(root, &schema::MOBILE_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.required("externalClientApplication", &self.app);
        o.bool("isScreenLockEnabled", self.is_screen_lock_enabled);
        o.str("label", self.label.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::MobileSettings.name())
    }
}

/// `ExtlClntAppMobileConfigurablePolicies`: the admin's screen-lock timeout.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MobilePolicies {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// `Never`, `One`, `Five`, … `TwoForty` (minutes), as written.
    pub screen_lock_timeout: Option<String>,
    pub extra: Vec<Element>,
}

impl MobilePolicies {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            screen_lock_timeout: get_str(root, "screenLockTimeout"),
            extra: extra(root, &schema::MOBILE_POLICIES),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.str("screenLockTimeout", self.screen_lock_timeout.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::MobilePolicies.name())
    }
}

/// One custom notification type sent to the app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationType {
    /// API name of a custom notification type enabled for the mobile channel.
    pub notification_type: String,
    pub push_by_default: Option<bool>,
}

impl NotificationType {
    fn read(el: &Element) -> Self {
        Self {
            notification_type: get_required(el, "notificationType"),
            push_by_default: get_bool(el, "pushByDefault"),
        }
    }

    fn write(&self) -> Vec<Element> {
        let mut o = Out::new();
        o.required("notificationType", &self.notification_type);
        o.bool("pushByDefault", self.push_by_default);
        o.into_children()
    }
}

/// `ExtlClntAppNotificationSettings`: which notification types the app receives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NotificationSettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    pub notification_types: Vec<NotificationType>,
    pub extra: Vec<Element>,
}

impl NotificationSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            notification_types: get_list(root, "notificationTypes", NotificationType::read),
            extra: extra(root, &schema::NOTIFICATION_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.nodes(
            "notificationTypes",
            &self.notification_types,
            NotificationType::write,
        );
        o.extra(&self.extra);
        o.finish(MetadataType::NotificationSettings.name())
    }
}

/// `ExtlClntAppAndroidPushConfig`: Firebase Cloud Messaging credentials.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AndroidPushConfig {
    pub fcm_project: Option<String>,
    /// The base64 Firebase Admin SDK private key.
    pub service_account: Option<Secret>,
    pub extra: Vec<Element>,
}

impl AndroidPushConfig {
    fn read(el: &Element) -> Self {
        Self {
            fcm_project: get_str(el, "fcmProject"),
            service_account: get_secret(el, "serviceAccount"),
            extra: extra(el, &schema::ANDROID_PUSH_CONFIG),
        }
    }

    fn write(&self) -> Vec<Element> {
        let mut o = Out::new();
        o.str("fcmProject", self.fcm_project.as_deref());
        o.secret("serviceAccount", self.service_account.as_ref());
        o.extra(&self.extra);
        o.into_children()
    }
}

/// `ExtlClntAppApplePushConfig`: APNs credentials, either a `.p8` signing key with its key
/// and team ids, or a `.p12` certificate with its password.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApplePushConfig {
    pub application_bundle: Option<String>,
    /// The `.p12` certificate, private key included.
    pub certificate: Option<Secret>,
    /// `Production` or `Sandbox`, as written.
    pub environment: Option<String>,
    pub key_identifier: Option<String>,
    pub password: Option<Secret>,
    /// The `.p8` signing key.
    pub signing_key: Option<Secret>,
    pub team_identifier: Option<String>,
    pub extra: Vec<Element>,
}

impl ApplePushConfig {
    fn read(el: &Element) -> Self {
        Self {
            application_bundle: get_str(el, "applicationBundle"),
            certificate: get_secret(el, "certificate"),
            environment: get_str(el, "environment"),
            key_identifier: get_str(el, "keyIdentifier"),
            password: get_secret(el, "password"),
            signing_key: get_secret(el, "signingKey"),
            team_identifier: get_str(el, "teamIdentifier"),
            extra: extra(el, &schema::APPLE_PUSH_CONFIG),
        }
    }

    fn write(&self) -> Vec<Element> {
        let mut o = Out::new();
        o.str("applicationBundle", self.application_bundle.as_deref());
        o.secret("certificate", self.certificate.as_ref());
        o.str("environment", self.environment.as_deref());
        o.str("keyIdentifier", self.key_identifier.as_deref());
        o.secret("password", self.password.as_ref());
        o.secret("signingKey", self.signing_key.as_ref());
        o.str("teamIdentifier", self.team_identifier.as_deref());
        o.extra(&self.extra);
        o.into_children()
    }
}

/// `ExtlClntAppPushSettings`: one push service and its credentials, inline or by link to
/// another org's record (exactly one of the three).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushSettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    pub android_push_config: Option<AndroidPushConfig>,
    pub apple_push_config: Option<ApplePushConfig>,
    /// `<org id>:<1Dh… record id>`.
    pub push_config_link: Option<String>,
    /// `Apple` or `Android`, as written.
    pub push_service_type: Option<String>,
    pub extra: Vec<Element>,
}

impl PushSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            android_push_config: get_node(root, "androidPushConfig", AndroidPushConfig::read),
            apple_push_config: get_node(root, "applePushConfig", ApplePushConfig::read),
            push_config_link: get_str(root, "pushConfigLink"),
            push_service_type: get_str(root, "pushServiceType"),
            extra: extra(root, &schema::PUSH_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        if let Some(config) = &self.android_push_config {
            o.node("androidPushConfig", config.write());
        }
        if let Some(config) = &self.apple_push_config {
            o.node("applePushConfig", config.write());
        }
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.str("pushConfigLink", self.push_config_link.as_deref());
        o.str("pushServiceType", self.push_service_type.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::PushSettings.name())
    }
}

/// `ExtlClntAppPushConfigurablePolicies`: whether notifications show their full content.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushPolicies {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// Required by the schema.
    pub is_full_content: Option<bool>,
    pub extra: Vec<Element>,
}

impl PushPolicies {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            is_full_content: get_bool(root, "isFullContent"),
            extra: extra(root, &schema::PUSH_POLICIES),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.required("externalClientApplication", &self.app);
        o.bool("isFullContent", self.is_full_content);
        o.str("label", self.label.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::PushPolicies.name())
    }
}
