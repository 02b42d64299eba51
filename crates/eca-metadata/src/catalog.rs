//! The type catalogue: every External Client App metadata type with its directory, suffix and
//! API versions, exactly as the Salesforce registry has them (`spec/metadata.md` §1, §11.11).

use std::fmt;

use crate::version::ApiVersion;

/// Who owns a component, which decides where it may travel (`spec/metadata.md` §4, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Developer-owned settings; travel with the app.
    Developer,
    /// Admin-owned policies; created per org, never packaged.
    Admin,
    /// Org-wide settings.
    Org,
}

macro_rules! catalogue {
    ($( $variant:ident {
        name: $name:literal, dir: $dir:literal, suffix: $suffix:literal,
        since: $since:literal, until: $until:expr, owner: $owner:ident, packageable: $pkg:literal $(,)?
    } )*) => {
        /// An External Client App metadata type (plus the org-level ECA settings).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum MetadataType { $( $variant, )* }

        impl MetadataType {
            pub const ALL: &'static [MetadataType] = &[ $( MetadataType::$variant, )* ];

            /// The `package.xml` type name, which is also the root element name.
            pub fn name(self) -> &'static str {
                match self { $( MetadataType::$variant => $name, )* }
            }

            /// The folder the files live in, in both source and Metadata API format.
            pub fn directory(self) -> &'static str {
                match self { $( MetadataType::$variant => $dir, )* }
            }

            /// The file suffix without the dot (`ecaGlblOauth`).
            pub fn suffix(self) -> &'static str {
                match self { $( MetadataType::$variant => $suffix, )* }
            }

            /// First API version whose WSDL has the type.
            pub fn since(self) -> ApiVersion {
                match self { $( MetadataType::$variant => ApiVersion::new($since), )* }
            }

            /// Last API version that still has the type, if it was removed or renamed.
            pub fn until(self) -> Option<ApiVersion> {
                match self { $( MetadataType::$variant => $until, )* }
            }

            pub fn owner(self) -> Owner {
                match self { $( MetadataType::$variant => Owner::$owner, )* }
            }

            /// Whether a 2GP package may contain the type (`spec/metadata.md` §6.2).
            pub fn is_packageable(self) -> bool {
                match self { $( MetadataType::$variant => $pkg, )* }
            }
        }
    };
}

catalogue! {
    ExternalClientApplication {
        name: "ExternalClientApplication", dir: "externalClientApps", suffix: "eca",
        since: 59, until: None, owner: Developer, packageable: true,
    }
    OauthSettings {
        name: "ExtlClntAppOauthSettings", dir: "extlClntAppOauthSettings", suffix: "ecaOauth",
        since: 59, until: None, owner: Developer, packageable: true,
    }
    GlobalOauthSettings {
        name: "ExtlClntAppGlobalOauthSettings", dir: "extlClntAppGlobalOauthSets", suffix: "ecaGlblOauth",
        since: 59, until: None, owner: Developer, packageable: false,
    }
    OauthPolicies {
        name: "ExtlClntAppOauthConfigurablePolicies", dir: "extlClntAppOauthPolicies", suffix: "ecaOauthPlcy",
        since: 59, until: None, owner: Admin, packageable: false,
    }
    AppPolicies {
        name: "ExtlClntAppConfigurablePolicies", dir: "extlClntAppPolicies", suffix: "ecaPlcy",
        since: 60, until: None, owner: Admin, packageable: false,
    }
    SamlPolicies {
        name: "ExtlClntAppSamlConfigurablePolicies", dir: "extlClntAppSamlConfigurablePolicies", suffix: "ecaSamlPlcy",
        since: 63, until: None, owner: Admin, packageable: false,
    }
    MobileSettings {
        name: "ExtlClntAppMobileSettings", dir: "extlClntAppMobileSettings", suffix: "ecaMobile",
        since: 61, until: None, owner: Developer, packageable: true,
    }
    MobilePolicies {
        name: "ExtlClntAppMobileConfigurablePolicies", dir: "extlClntAppMobilePolicies", suffix: "ecaMobilePlcy",
        since: 61, until: None, owner: Admin, packageable: false,
    }
    NotificationSettings {
        name: "ExtlClntAppNotificationSettings", dir: "extlClntAppNotifSettings", suffix: "ecaNotifications",
        since: 61, until: None, owner: Developer, packageable: true,
    }
    PushSettings {
        name: "ExtlClntAppPushSettings", dir: "extlClntAppPushSettings", suffix: "ecaPush",
        since: 62, until: None, owner: Developer, packageable: true,
    }
    PushPolicies {
        name: "ExtlClntAppPushConfigurablePolicies", dir: "extlClntAppPushPolicies", suffix: "ecaPushPlcy",
        since: 62, until: None, owner: Admin, packageable: false,
    }
    CanvasSettings {
        name: "ExtlClntAppCanvasSettings", dir: "extlClntAppCanvasSettings", suffix: "ecaCanvas",
        since: 66, until: None, owner: Developer, packageable: true,
    }
    OauthSecuritySettings {
        name: "ExtlClntAppOauthSecuritySettings", dir: "extlClntAppOauthSecuritySettings", suffix: "ecaOauthSecurity",
        since: 67, until: None, owner: Developer, packageable: false,
    }
    AttestSettings {
        name: "ExtlClntAppAttestSettings", dir: "extlClntAppAttestSettings", suffix: "ecaAttest",
        since: 66, until: None, owner: Developer, packageable: true,
    }
    AttestPolicies {
        name: "ExtlClntAppAttestConfigurablePolicies", dir: "extlClntAppAttestPolicies", suffix: "ecaAttestPlcy",
        since: 66, until: None, owner: Admin, packageable: false,
    }
    SampleSettings {
        name: "ExtlClntAppSampleSettings", dir: "extlClntAppSampleSettings", suffix: "ecaSmpl",
        since: 59, until: None, owner: Developer, packageable: true,
    }
    SamplePolicies {
        name: "ExtlClntAppSampleConfigurablePolicies", dir: "extlClntAppSamplePolicies", suffix: "ecaSmplPlcy",
        since: 59, until: None, owner: Admin, packageable: false,
    }
    OrgSettings {
        name: "ExternalClientAppSettings", dir: "settings", suffix: "settings",
        since: 58, until: None, owner: Org, packageable: false,
    }
}

/// The one settings component we own: `settings/ExternalClientApp.settings`.
pub const ORG_SETTINGS_NAME: &str = "ExternalClientApp";

impl MetadataType {
    /// The type whose source directory is `dir` (case-sensitive, as the registry is).
    pub fn from_directory(dir: &str) -> Option<MetadataType> {
        MetadataType::ALL
            .iter()
            .copied()
            .find(|t| t.directory() == dir)
    }

    /// The type whose suffix is `suffix` (without the dot).
    pub fn from_suffix(suffix: &str) -> Option<MetadataType> {
        MetadataType::ALL
            .iter()
            .copied()
            .find(|t| t.suffix() == suffix)
    }

    /// The type with the `package.xml` name `name`.
    pub fn from_name(name: &str) -> Option<MetadataType> {
        if name == "Settings" {
            return Some(MetadataType::OrgSettings);
        }
        MetadataType::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The name used in `package.xml` `<name>`: the org settings go through `Settings`.
    pub fn manifest_name(self) -> &'static str {
        match self {
            MetadataType::OrgSettings => "Settings",
            other => other.name(),
        }
    }

    /// Whether the type exists at `version`.
    pub fn exists_at(self, version: ApiVersion) -> bool {
        version >= self.since() && self.until().is_none_or(|u| version <= u)
    }

    /// The source-format file name of a component of this type.
    pub fn source_file_name(self, full_name: &str) -> String {
        format!("{full_name}.{}-meta.xml", self.suffix())
    }

    /// The Metadata API format file name of a component of this type.
    pub fn mdapi_file_name(self, full_name: &str) -> String {
        format!("{full_name}.{}", self.suffix())
    }
}

impl fmt::Display for MetadataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_are_exact() {
        let t = MetadataType::GlobalOauthSettings;
        assert_eq!(
            (t.directory(), t.suffix()),
            ("extlClntAppGlobalOauthSets", "ecaGlblOauth")
        );
        let t = MetadataType::NotificationSettings;
        assert_eq!(
            (t.directory(), t.suffix()),
            ("extlClntAppNotifSettings", "ecaNotifications")
        );
        assert_eq!(
            MetadataType::from_suffix("ecaPlcy"),
            Some(MetadataType::AppPolicies)
        );
        assert_eq!(
            MetadataType::from_directory("extlClntAppConfigurablePolicies"),
            None
        );
    }

    #[test]
    fn directories_and_suffixes_are_unique() {
        for (i, a) in MetadataType::ALL.iter().enumerate() {
            for b in &MetadataType::ALL[i + 1..] {
                assert_ne!(a.suffix(), b.suffix());
                assert_ne!(a.directory(), b.directory());
            }
        }
    }
}
