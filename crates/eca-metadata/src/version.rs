//! Metadata API versions (`66.0`). Only the major number matters for ECA types.

use std::fmt;
use std::str::FromStr;

/// An API version such as `66.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion(u32);

impl ApiVersion {
    /// The version new projects get and the highest the server advertises.
    pub const DEFAULT: ApiVersion = ApiVersion(66);
    /// The newest version whose fields we know (from typings newer than the v66 WSDL).
    pub const LATEST_KNOWN: ApiVersion = ApiVersion(67);
    /// The oldest version that has External Client Apps.
    pub const OLDEST: ApiVersion = ApiVersion(59);

    pub const fn new(major: u32) -> Self {
        Self(major)
    }

    pub const fn major(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.0", self.0)
    }
}

/// Why a version string is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an API version like `66.0`")]
pub struct BadVersion(pub String);

impl FromStr for ApiVersion {
    type Err = BadVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let (major, minor) = t.split_once('.').unwrap_or((t, "0"));
        match (major.parse::<u32>(), minor) {
            (Ok(m), "0") if (1..1000).contains(&m) => Ok(ApiVersion(m)),
            _ => Err(BadVersion(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!("66.0".parse::<ApiVersion>().unwrap(), ApiVersion::new(66));
        assert_eq!("62".parse::<ApiVersion>().unwrap(), ApiVersion::new(62));
        assert!("66.1".parse::<ApiVersion>().is_err());
        assert!("v66".parse::<ApiVersion>().is_err());
        assert_eq!(ApiVersion::new(61).to_string(), "61.0");
    }
}
