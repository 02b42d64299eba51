//! The org-wide ECA settings (`ExternalClientAppSettings`, `spec/metadata.md` §2.8).

use crate::catalog::{MetadataType, ORG_SETTINGS_NAME};
use crate::schema;
use crate::xml::Element;

use super::fields::{Out, extra, get_bool};

/// `settings/ExternalClientApp.settings`: the org's switches for External Client Apps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSettings {
    /// Always `ExternalClientApp` in a real project.
    pub full_name: String,
    /// Reading consumer secrets through the credentials REST API (since v62).
    pub enable_client_secret_in_rest_api_access: Option<bool>,
    /// Reading and writing consumer secrets through the Metadata API; deprecated in v66 and
    /// best left off (`spec/metadata.md` §6.5).
    pub enable_consumer_secret_api_access: Option<bool>,
    /// The ECA opt-in; removed from the WSDL after v62.
    pub enable_external_client_apps: Option<bool>,
    /// Packaging OAuth apps owned by an org that is not a Dev Hub (since v62).
    pub enable_package_eca_oauth_from_dev_org: Option<bool>,
    pub extra: Vec<Element>,
}

impl Default for OrgSettings {
    fn default() -> Self {
        Self {
            full_name: ORG_SETTINGS_NAME.to_owned(),
            enable_client_secret_in_rest_api_access: None,
            enable_consumer_secret_api_access: None,
            enable_external_client_apps: None,
            enable_package_eca_oauth_from_dev_org: None,
            extra: Vec::new(),
        }
    }
}

impl OrgSettings {
    pub fn from_element(full_name: &str, root: &Element) -> Self {
        Self {
            full_name: full_name.to_owned(),
            enable_client_secret_in_rest_api_access: get_bool(
                root,
                "enableClientSecretInRestApiAccess",
            ),
            enable_consumer_secret_api_access: get_bool(root, "enableConsumerSecretApiAccess"),
            enable_external_client_apps: get_bool(root, "enableExternalClientApps"),
            enable_package_eca_oauth_from_dev_org: get_bool(
                root,
                "enablePackageEcaOauthFromDevOrg",
            ),
            extra: extra(root, &schema::ORG_SETTINGS),
        }
    }

    pub fn to_element(&self) -> Element {
        let mut o = Out::new();
        o.bool(
            "enableClientSecretInRestApiAccess",
            self.enable_client_secret_in_rest_api_access,
        );
        o.bool(
            "enableConsumerSecretApiAccess",
            self.enable_consumer_secret_api_access,
        );
        o.bool("enableExternalClientApps", self.enable_external_client_apps);
        o.bool(
            "enablePackageEcaOauthFromDevOrg",
            self.enable_package_eca_oauth_from_dev_org,
        );
        o.extra(&self.extra);
        o.finish(MetadataType::OrgSettings.name())
    }
}
