//! The SAML plugin's policies (`ExtlClntAppSamlConfigurablePolicies`, `spec/metadata.md` §2.6):
//! the service provider this org's IdP signs assertions for.

use crate::catalog::MetadataType;
use crate::schema;
use crate::xml::Element;

use super::common::CustomAttribute;
use super::enums::{
    NameIdFormat, SamlBinding, SamlEncryptionType, SamlSigningAlgorithm, SamlSubjectType,
};
use super::fields::{Out, extra, get_enum, get_list, get_required, get_str, split_commas};

/// An app's SAML service provider and how assertions for it are built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SamlPolicies {
    pub full_name: String,
    pub app: String,
    pub label: Option<String>,
    /// The service provider's assertion consumer service URL (required).
    pub acs_url: Option<String>,
    /// The service provider's request-signing certificate; when set, every request must be
    /// signed.
    pub certificate: Option<String>,
    /// `commaSeparatedPermissionSet` as written; see [`Self::permission_sets`].
    pub comma_separated_permission_set: Option<String>,
    /// `commaSeparatedProfile` as written; see [`Self::profiles`].
    pub comma_separated_profile: Option<String>,
    /// Sent as attribute statements; formulas use `$Object.Field`.
    pub custom_attributes: Vec<CustomAttribute>,
    /// The certificate assertions are encrypted for.
    pub encryption_certificate: Option<String>,
    pub encryption_type: Option<SamlEncryptionType>,
    /// The service provider's entity id (required).
    pub entity_url: Option<String>,
    /// The issuer of assertions; the org's My Domain when absent.
    pub issuer: Option<String>,
    pub name_id_format: Option<NameIdFormat>,
    pub signing_algorithm: Option<SamlSigningAlgorithm>,
    pub single_logout_binding: Option<SamlBinding>,
    pub single_logout_url: Option<String>,
    /// Only in API 63; the app policies' `startUrl` replaced it.
    pub start_url: Option<String>,
    /// The user field used with `subjectType` `CustomAttribute`.
    pub subject_custom_attribute: Option<String>,
    pub subject_type: Option<SamlSubjectType>,
    pub extra: Vec<Element>,
}

impl SamlPolicies {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            app: get_required(root, "externalClientApplication"),
            label: get_str(root, "label"),
            acs_url: get_str(root, "acsUrl"),
            certificate: get_str(root, "certificate"),
            comma_separated_permission_set: get_str(root, "commaSeparatedPermissionSet"),
            comma_separated_profile: get_str(root, "commaSeparatedProfile"),
            custom_attributes: get_list(root, "customAttributes", CustomAttribute::read),
            encryption_certificate: get_str(root, "encryptionCertificate"),
            encryption_type: get_enum(root, "encryptionType"),
            entity_url: get_str(root, "entityUrl"),
            issuer: get_str(root, "issuer"),
            name_id_format: get_enum(root, "nameIdFormat"),
            signing_algorithm: get_enum(root, "signingAlgorithmType"),
            single_logout_binding: get_enum(root, "singleLogoutBindingType"),
            single_logout_url: get_str(root, "singleLogoutUrl"),
            start_url: get_str(root, "startUrl"),
            subject_custom_attribute: get_str(root, "subjectCustomAttribute"),
            subject_type: get_enum(root, "subjectType"),
            extra: extra(root, &schema::SAML_POLICIES),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("acsUrl", self.acs_url.as_deref());
        o.str("certificate", self.certificate.as_deref());
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
        o.str(
            "encryptionCertificate",
            self.encryption_certificate.as_deref(),
        );
        o.enumeration("encryptionType", self.encryption_type);
        o.str("entityUrl", self.entity_url.as_deref());
        o.required("externalClientApplication", &self.app);
        o.str("issuer", self.issuer.as_deref());
        o.str("label", self.label.as_deref());
        o.enumeration("nameIdFormat", self.name_id_format);
        o.enumeration("signingAlgorithmType", self.signing_algorithm);
        o.enumeration("singleLogoutBindingType", self.single_logout_binding);
        o.str("singleLogoutUrl", self.single_logout_url.as_deref());
        o.str("startUrl", self.start_url.as_deref());
        o.str(
            "subjectCustomAttribute",
            self.subject_custom_attribute.as_deref(),
        );
        o.enumeration("subjectType", self.subject_type);
        o.extra(&self.extra);
        o.finish(MetadataType::SamlPolicies.name())
    }

    /// The permission sets required to use SSO, trimmed.
    pub fn permission_sets(&self) -> Vec<&str> {
        split_commas(self.comma_separated_permission_set.as_deref())
    }

    /// The profiles required to use SSO, trimmed.
    pub fn profiles(&self) -> Vec<&str> {
        split_commas(self.comma_separated_profile.as_deref())
    }

    /// The `NameID` format; `Unspecified` when absent.
    pub fn name_id(&self) -> NameIdFormat {
        self.name_id_format.unwrap_or(NameIdFormat::Unspecified)
    }
}
