//! A secret value read from metadata: a consumer secret, a push signing key or password.
//!
//! `STYLE.md` ("Newtypes from day one"): secrets redact `Debug`, have no `Display`, and the
//! value is only reachable through [`Secret::expose`], so that a stray `{:?}` of a model never
//! puts one into a log or an error message.

use std::fmt;

/// A secret string. `Debug` prints `Secret(***)`.
///
/// `PartialEq` compares in variable time, which is fine for comparing models; code that
/// authenticates a client must use a constant-time comparison on [`Secret::expose`] instead.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call this only where the value is needed (writing the file,
    /// checking a credential), never to format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}
