//! Nested values shared by several types: custom attributes and IP ranges.
//!
//! Their shapes are fixed (`key`/`formula`, start/end/description), so unlike the top-level
//! types and the larger nested ones (`idTokenConfig`, the push configs) they keep no unknown
//! elements: an unknown element inside one is reported by the validator and not written back.

use crate::xml::Element;

use super::fields::{Out, get_required, get_str};

/// A custom attribute (`spec/metadata.md` §8): a key and the formula that computes its value.
/// The same shape serves the OAuth settings, the OAuth policies and the SAML policies.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CustomAttribute {
    pub key: String,
    /// Kept as written: whether `$User.Country` or `User.Country` is meant is the server's call.
    pub formula: String,
}

impl CustomAttribute {
    pub fn new(key: impl Into<String>, formula: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            formula: formula.into(),
        }
    }

    pub(super) fn read(el: &Element) -> Self {
        Self {
            key: get_required(el, "key"),
            formula: get_required(el, "formula"),
        }
    }

    pub(super) fn write(&self) -> Vec<Element> {
        let mut o = Out::new();
        o.required("formula", &self.formula);
        o.required("key", &self.key);
        o.into_children()
    }
}

/// An inclusive IP address range (`ExtlClntAppOauthIpRange`). The addresses stay text: the
/// validator parses them and reports the ones that are not addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpRange {
    pub start: String,
    pub end: String,
    pub description: Option<String>,
}

impl IpRange {
    pub(super) fn read(el: &Element) -> Self {
        Self {
            start: get_required(el, "startIpAddress"),
            end: get_required(el, "endIpAddress"),
            description: get_str(el, "description"),
        }
    }

    pub(super) fn write(&self) -> Vec<Element> {
        let mut o = Out::new();
        o.str("description", self.description.as_deref());
        o.required("endIpAddress", &self.end);
        o.required("startIpAddress", &self.start);
        o.into_children()
    }
}
