//! The typed model: one Rust struct per metadata type, with readable names, typed values and
//! the documented defaults (`spec/metadata.md` §2, §3, §10).
//!
//! A [`Component`] is built from an element tree that the schema checks have already seen, so
//! building one is total: it never fails and never panics. A value that does not parse (a bad
//! boolean, an unknown enumeration value or scope token) is left out, because the validator has
//! reported it. Elements the schema does not know are kept in each struct's `extra` and written
//! back, so that newer fields survive a round trip through the model.
//!
//! Writing goes through [`crate::xml::write_canonical`]: elements in alphabetical order, as
//! Salesforce writes them on retrieve, so a retrieved file read and written again is unchanged.

mod common;
mod enums;
mod fields;
mod header;
mod mobile;
mod oauth;
mod org;
mod plugins;
mod policies;
mod saml;
mod scope;
mod secret;

#[cfg(test)]
mod tests;

use crate::catalog::MetadataType;
use crate::xml::{self, Element};

pub use common::{CustomAttribute, IpRange};
pub use enums::{
    DistributionState, IpRelaxation, JwtSessionTimeoutType, ModelEnum, NameIdFormat,
    PermittedUsers, PolicyAction, RefreshTokenPolicyType, RefreshTokenUnit, SamlBinding,
    SamlEncryptionType, SamlSigningAlgorithm, SamlSubjectType, SessionLevel, StartPage,
};
pub use header::Header;
pub use mobile::{
    AndroidPushConfig, ApplePushConfig, MobilePolicies, MobileSettings, NotificationSettings,
    NotificationType, PushPolicies, PushSettings,
};
pub use oauth::{GlobalOauthSettings, IdTokenConfig, OauthSettings};
pub use org::OrgSettings;
pub use plugins::{
    AttestPolicies, AttestSettings, CanvasSettings, OauthSecuritySettings, SamplePolicies,
    SampleSettings,
};
pub use policies::{AppPolicies, OauthPolicies, Plugin};
pub use saml::SamlPolicies;
pub use scope::OauthScope;
pub use secret::Secret;

/// The parts every component struct has, for [`Component`]'s accessors.
trait Parts {
    fn full_name(&self) -> &str;
    fn app(&self) -> Option<&str>;
    fn label(&self) -> Option<&str>;
    fn extra(&self) -> &[Element];
}

/// `Parts` for the satellites: every type that names its app in `externalClientApplication`.
macro_rules! satellite_parts {
    ($($ty:ident),* $(,)?) => {$(
        impl Parts for $ty {
            fn full_name(&self) -> &str {
                &self.full_name
            }
            fn app(&self) -> Option<&str> {
                Some(&self.app)
            }
            fn label(&self) -> Option<&str> {
                self.label.as_deref()
            }
            fn extra(&self) -> &[Element] {
                &self.extra
            }
        }
    )*};
}

satellite_parts!(
    OauthSettings,
    GlobalOauthSettings,
    OauthPolicies,
    AppPolicies,
    SamlPolicies,
    MobileSettings,
    MobilePolicies,
    NotificationSettings,
    PushSettings,
    PushPolicies,
    CanvasSettings,
    OauthSecuritySettings,
    AttestSettings,
    AttestPolicies,
    SampleSettings,
    SamplePolicies,
);

impl Parts for Header {
    fn full_name(&self) -> &str {
        &self.full_name
    }
    fn app(&self) -> Option<&str> {
        None
    }
    fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }
    fn extra(&self) -> &[Element] {
        &self.extra
    }
}

impl Parts for OrgSettings {
    fn full_name(&self) -> &str {
        &self.full_name
    }
    fn app(&self) -> Option<&str> {
        None
    }
    fn label(&self) -> Option<&str> {
        None
    }
    fn extra(&self) -> &[Element] {
        &self.extra
    }
}

macro_rules! components {
    ($( $variant:ident = $meta:ident ),* $(,)?) => {
        /// One validated metadata component of any type.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Component {
            $( $variant($variant), )*
        }

        impl Component {
            /// Builds the model of a component of type `ty` from its root element. Never fails:
            /// what does not parse is left out (the validator reports it), and the root's name
            /// is not checked.
            pub fn from_element(ty: MetadataType, full_name: &str, root: &Element) -> Component {
                match ty {
                    $( MetadataType::$meta => Component::$variant($variant::from_element(full_name, root)), )*
                }
            }

            /// The component's metadata type.
            pub fn ty(&self) -> MetadataType {
                match self {
                    $( Component::$variant(_) => MetadataType::$meta, )*
                }
            }

            /// The root element of the component's file; children in any order.
            pub fn to_element(&self) -> Element {
                match self {
                    $( Component::$variant(c) => c.to_element(), )*
                }
            }

            fn parts(&self) -> &dyn Parts {
                match self {
                    $( Component::$variant(c) => c, )*
                }
            }
        }

        $(
            impl From<$variant> for Component {
                fn from(c: $variant) -> Self {
                    Component::$variant(c)
                }
            }
        )*
    };
}

components! {
    Header = ExternalClientApplication,
    OauthSettings = OauthSettings,
    GlobalOauthSettings = GlobalOauthSettings,
    OauthPolicies = OauthPolicies,
    AppPolicies = AppPolicies,
    SamlPolicies = SamlPolicies,
    MobileSettings = MobileSettings,
    MobilePolicies = MobilePolicies,
    NotificationSettings = NotificationSettings,
    PushSettings = PushSettings,
    PushPolicies = PushPolicies,
    CanvasSettings = CanvasSettings,
    OauthSecuritySettings = OauthSecuritySettings,
    AttestSettings = AttestSettings,
    AttestPolicies = AttestPolicies,
    SampleSettings = SampleSettings,
    SamplePolicies = SamplePolicies,
    OrgSettings = OrgSettings,
}

impl Component {
    /// The component's API name (the file name without its suffix).
    pub fn full_name(&self) -> &str {
        self.parts().full_name()
    }

    /// The app the component belongs to (`externalClientApplication`); `None` for the header
    /// (which is the app) and the org settings.
    pub fn app(&self) -> Option<&str> {
        self.parts().app()
    }

    /// The label, for the types that have one.
    pub fn label(&self) -> Option<&str> {
        self.parts().label()
    }

    /// The top-level elements the model does not know, as they will be written back.
    pub fn extra(&self) -> &[Element] {
        self.parts().extra()
    }

    /// The component's file in Salesforce's canonical form.
    pub fn to_xml(&self) -> String {
        xml::write_canonical(&self.to_element())
    }
}
