//! The app header (`ExternalClientApplication`, `spec/metadata.md` §2.1).

use crate::catalog::MetadataType;
use crate::schema;
use crate::xml::Element;

use super::enums::DistributionState;
use super::fields::{Out, extra, get_bool, get_enum, get_str};

/// The header of an External Client App. Its full name is the app's API name, which every
/// other component names in `externalClientApplication`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Header {
    pub full_name: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub description: Option<String>,
    pub distribution_state: Option<DistributionState>,
    pub icon_url: Option<String>,
    /// "Reserved for future use" per the docs.
    pub info_url: Option<String>,
    pub is_protected: Option<bool>,
    pub label: Option<String>,
    pub logo_url: Option<String>,
    /// `Local` or `Global`; internal to Salesforce, kept as written.
    pub managed_type: Option<String>,
    /// `<15-char org id>:<app API name>`, generated on the first deploy when absent.
    pub org_scoped_external_app: Option<String>,
    /// Elements this model does not know, kept for the round trip.
    pub extra: Vec<Element>,
}

impl Header {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            contact_email: get_str(root, "contactEmail"),
            contact_phone: get_str(root, "contactPhone"),
            description: get_str(root, "description"),
            distribution_state: get_enum(root, "distributionState"),
            icon_url: get_str(root, "iconUrl"),
            info_url: get_str(root, "infoUrl"),
            is_protected: get_bool(root, "isProtected"),
            label: get_str(root, "label"),
            logo_url: get_str(root, "logoUrl"),
            managed_type: get_str(root, "managedType"),
            org_scoped_external_app: get_str(root, "orgScopedExternalApp"),
            extra: extra(root, &schema::HEADER),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.str("contactEmail", self.contact_email.as_deref());
        o.str("contactPhone", self.contact_phone.as_deref());
        o.str("description", self.description.as_deref());
        o.enumeration("distributionState", self.distribution_state);
        o.str("iconUrl", self.icon_url.as_deref());
        o.str("infoUrl", self.info_url.as_deref());
        o.bool("isProtected", self.is_protected);
        o.str("label", self.label.as_deref());
        o.str("logoUrl", self.logo_url.as_deref());
        o.str("managedType", self.managed_type.as_deref());
        o.str(
            "orgScopedExternalApp",
            self.org_scoped_external_app.as_deref(),
        );
        o.extra(&self.extra);
        o.finish(MetadataType::ExternalClientApplication.name())
    }

    /// Whether the app may go into a 2GP package (`distributionState` `Packaged`,
    /// `spec/metadata.md` §6.1); an app without a state is local.
    pub fn is_packaged(&self) -> bool {
        self.distribution_state == Some(DistributionState::Packaged)
    }
}
