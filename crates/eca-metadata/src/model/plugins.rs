//! The newer and internal plugins (`spec/metadata.md` §2.7): canvas settings, OAuth security
//! (mTLS and token IP ranges), attestation settings and policies, and the internal sample
//! plugin, which is only passed through. Their enumerations stay strings.

use crate::catalog::MetadataType;
use crate::schema;
use crate::xml::Element;

use super::common::IpRange;
use super::fields::{Out, extra, get_list, get_required, get_str, get_strs};

/// `ExtlClntAppCanvasSettings`: how the app appears as a canvas app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CanvasSettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// `Get` or `Post`, as written.
    pub access_method: Option<String>,
    /// Where the canvas appears (`Aura`, `Visualforce`, …), as written.
    pub canvas_location_options: Vec<String>,
    /// `HideShare`, `HideHeader`, `PersonalEnabled`, as written.
    pub canvas_options: Vec<String>,
    /// Required by the schema.
    pub canvas_url: Option<String>,
    /// Apex class name.
    pub life_cycle_handler: Option<String>,
    /// `None`, `IdpInitiated` or `SpInitiated`, as written.
    pub saml_initiation_method: Option<String>,
    pub extra: Vec<Element>,
}

impl CanvasSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            access_method: get_str(root, "accessMethod"),
            canvas_location_options: get_strs(root, "canvasLocationOptions"),
            canvas_options: get_strs(root, "canvasOptions"),
            canvas_url: get_str(root, "canvasUrl"),
            life_cycle_handler: get_str(root, "lifeCycleHandler"),
            saml_initiation_method: get_str(root, "samlInitiationMethod"),
            extra: extra(root, &schema::CANVAS_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("accessMethod", self.access_method.as_deref());
        o.strs("canvasLocationOptions", &self.canvas_location_options);
        o.strs("canvasOptions", &self.canvas_options);
        o.str("canvasUrl", self.canvas_url.as_deref());
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.str("lifeCycleHandler", self.life_cycle_handler.as_deref());
        o.str(
            "samlInitiationMethod",
            self.saml_initiation_method.as_deref(),
        );
        o.extra(&self.extra);
        o.finish(MetadataType::CanvasSettings.name())
    }
}

/// `ExtlClntAppOauthSecuritySettings` (after v66): certificate-bound tokens (RFC 8705) and the
/// IP ranges tokens may be used from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OauthSecuritySettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// One of the RFC 8705 names (`tls_client_auth_subject_dn`, …), as written.
    pub tls_client_auth_cert_param_type: Option<String>,
    pub tls_client_auth_cert_param_value: Option<String>,
    pub token_ip_ranges: Vec<IpRange>,
    pub extra: Vec<Element>,
}

impl OauthSecuritySettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            tls_client_auth_cert_param_type: get_str(root, "tlsClientAuthCertParamType"),
            tls_client_auth_cert_param_value: get_str(root, "tlsClientAuthCertParamValue"),
            token_ip_ranges: get_list(root, "tokenIpRanges", IpRange::read),
            extra: extra(root, &schema::OAUTH_SECURITY_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.str(
            "tlsClientAuthCertParamType",
            self.tls_client_auth_cert_param_type.as_deref(),
        );
        o.str(
            "tlsClientAuthCertParamValue",
            self.tls_client_auth_cert_param_value.as_deref(),
        );
        o.nodes("tokenIpRanges", &self.token_ip_ranges, IpRange::write);
        o.extra(&self.extra);
        o.finish(MetadataType::OauthSecuritySettings.name())
    }
}

/// `ExtlClntAppAttestSettings`: the device attestation service.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttestSettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    pub attest_config_link: Option<String>,
    /// `Apple` or `Android`, as written; required by the schema.
    pub attest_service_type: Option<String>,
    pub extra: Vec<Element>,
}

impl AttestSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            attest_config_link: get_str(root, "attestConfigLink"),
            attest_service_type: get_str(root, "attestServiceType"),
            extra: extra(root, &schema::ATTEST_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("attestConfigLink", self.attest_config_link.as_deref());
        o.str("attestServiceType", self.attest_service_type.as_deref());
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::AttestSettings.name())
    }
}

/// `ExtlClntAppAttestConfigurablePolicies`: how strictly attestation is enforced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AttestPolicies {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// `None`, `ClientControlled` or `Strict`, as written; required by the schema.
    pub attest_enforce_level: Option<String>,
    pub extra: Vec<Element>,
}

impl AttestPolicies {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            attest_enforce_level: get_str(root, "attestEnforceLevel"),
            extra: extra(root, &schema::ATTEST_POLICIES),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("attestEnforceLevel", self.attest_enforce_level.as_deref());
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::AttestPolicies.name())
    }
}

/// `ExtlClntAppSampleSettings`: Salesforce's internal sample plugin, passed through.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SampleSettings {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    pub device_platform: Option<String>,
    pub device_type: Option<String>,
    pub extra: Vec<Element>,
}

impl SampleSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            device_platform: get_str(root, "devicePlatform"),
            device_type: get_str(root, "deviceType"),
            extra: extra(root, &schema::SAMPLE_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("devicePlatform", self.device_platform.as_deref());
        o.str("deviceType", self.device_type.as_deref());
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::SampleSettings.name())
    }
}

/// `ExtlClntAppSampleConfigurablePolicies`: Salesforce's internal sample plugin, passed through.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SamplePolicies {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    pub admin_only_policy: Option<String>,
    pub policy1: Option<String>,
    pub policy2: Option<String>,
    pub extra: Vec<Element>,
}

impl SamplePolicies {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            admin_only_policy: get_str(root, "adminOnlyPolicy"),
            policy1: get_str(root, "policy1"),
            policy2: get_str(root, "policy2"),
            extra: extra(root, &schema::SAMPLE_POLICIES),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("adminOnlyPolicy", self.admin_only_policy.as_deref());
        o.required("externalClientApplication", &self.app);
        o.str("label", self.label.as_deref());
        o.str("policy1", self.policy1.as_deref());
        o.str("policy2", self.policy2.as_deref());
        o.extra(&self.extra);
        o.finish(MetadataType::SamplePolicies.name())
    }
}
