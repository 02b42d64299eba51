//! Salesforce record ids: a three-character key prefix (`00D` org, `005` user, ...), fifteen
//! case-sensitive characters in all, and an eighteen-character case-insensitive form whose
//! last three characters encode the case of the first fifteen (`spec/oauth-and-connect.md`
//! §1.11). Ids are stored and compared in the eighteen-character form; both forms parse.

use std::fmt;

use crate::rng::Rng;

const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Why a string is not a record id of the expected kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("`{0}` is not a 15- or 18-character record id")]
    Length(String),
    #[error("`{0}` contains characters other than letters and digits")]
    Characters(String),
    #[error("`{id}` is not a {kind} id (expected the prefix {prefix})")]
    Prefix {
        id: String,
        kind: &'static str,
        prefix: &'static str,
    },
    #[error("`{0}` has a wrong checksum")]
    Checksum(String),
}

/// The three-character checksum that makes a 15-character id an 18-character one: each
/// five-character chunk gives a five-bit number whose bit `i` is set when character `i` of
/// the chunk is an uppercase letter.
pub fn checksum(id15: &str) -> String {
    id15.as_bytes()
        .chunks(5)
        .map(|chunk| {
            let bits = chunk
                .iter()
                .enumerate()
                .filter(|(_, c)| c.is_ascii_uppercase())
                .fold(0usize, |acc, (i, _)| acc | (1 << i));
            char::from(SUFFIX_ALPHABET[bits])
        })
        .collect()
}

/// Normalizes a 15- or 18-character id to its 18-character form, restoring the case of an
/// 18-character id from its checksum (those are case-insensitive).
pub fn to_18(id: &str) -> Result<String, IdError> {
    if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(IdError::Characters(id.to_owned()));
    }
    match id.len() {
        15 => Ok(format!("{id}{}", checksum(id))),
        18 => {
            let suffix = id[15..].to_ascii_uppercase();
            let mut body: Vec<u8> = id[..15].bytes().collect();
            for (chunk, s) in body.chunks_mut(5).zip(suffix.bytes()) {
                let bits = SUFFIX_ALPHABET
                    .iter()
                    .position(|c| *c == s)
                    .ok_or_else(|| IdError::Checksum(id.to_owned()))?;
                for (i, c) in chunk.iter_mut().enumerate() {
                    *c = if bits & (1 << i) != 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    };
                }
            }
            let body = String::from_utf8(body).map_err(|_| IdError::Characters(id.to_owned()))?;
            let canonical = format!("{body}{}", checksum(&body));
            // A letter whose case the checksum says is upper must be a letter at all.
            if canonical[..15].eq_ignore_ascii_case(&id[..15]) {
                Ok(canonical)
            } else {
                Err(IdError::Checksum(id.to_owned()))
            }
        }
        _ => Err(IdError::Length(id.to_owned())),
    }
}

/// A new random id with the given prefix, in 18-character form.
pub fn generate(prefix: &str, rng: &dyn Rng) -> String {
    let mut bytes = [0u8; 12];
    rng.fill(&mut bytes);
    let body: String = bytes
        .iter()
        .map(|b| char::from(BASE62[usize::from(*b) % BASE62.len()]))
        .collect();
    let id15 = format!("{prefix}{body}");
    format!("{id15}{}", checksum(&id15))
}

macro_rules! record_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Parses a 15- or 18-character id of this kind.
            pub fn parse(s: &str) -> Result<Self, IdError> {
                let id = to_18(s.trim())?;
                if !id.starts_with($prefix) {
                    return Err(IdError::Prefix { id: s.to_owned(), kind: $kind, prefix: $prefix });
                }
                Ok(Self(id))
            }

            /// A new random id.
            pub fn generate(rng: &dyn Rng) -> Self {
                Self(generate($prefix, rng))
            }

            /// The 18-character form.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The 15-character, case-sensitive form.
            pub fn as_15(&self) -> &str {
                &self.0[..15]
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

record_id!(
    /// An organization (`00D`).
    OrgId, "00D", "organization"
);
record_id!(
    /// A user (`005`).
    UserId, "005", "user"
);
record_id!(
    /// A profile (`00e`).
    ProfileId, "00e", "profile"
);
record_id!(
    /// A permission set (`0PS`).
    PermissionSetId, "0PS", "permission set"
);
record_id!(
    /// A profile's login IP range (`02w`, the `LoginIpRange` object).
    LoginIpRangeId, "02w", "login IP range"
);
record_id!(
    /// An OAuth consumer (`888`), the record behind an app's global OAuth settings
    /// (`spec/metadata.md` §1, §4.2).
    ConsumerId, "888", "OAuth consumer"
);
record_id!(
    /// A deploy request (`0Af`).
    DeployRequestId, "0Af", "deploy request"
);
record_id!(
    /// A push configuration (`1Dh`): the credentials of an app's inline push config, which
    /// `pushConfigLink` names (`spec/metadata.md` §2.7, §4.2).
    PushConfigId, "1Dh", "push configuration"
);

record_id!(
    /// An External Client App (`0xI`, `spec/oauth-and-connect.md` §1.11), the Connect REST
    /// API's `identifier` of an app. The store keeps no id for an app: it is derived from the
    /// org and the app's name by [`ExternalClientAppId::of_app`], so every node computes the
    /// same one without a lookup.
    ExternalClientAppId, "0xI", "External Client App"
);
record_id!(
    /// A staged or rotated consumer credential of the Connect credentials API
    /// (`spec/oauth-and-connect.md` §3). Salesforce's prefix is not documented; `0Cs` is
    /// OpenECA's.
    StagedCredentialId, "0Cs", "staged credential"
);

impl ExternalClientAppId {
    /// The id of app `app_name` (matched case-insensitively) of `org`: twelve base-62
    /// characters of SHA-256(`eca-app:<org18>:<lower-case name>`) after the prefix. Stable across
    /// nodes and restarts; an app deleted and deployed again under the same name gets the
    /// same id.
    pub fn of_app(org: &crate::OrgId, app_name: &str) -> Self {
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            format!("eca-app:{}:{}", org.as_str(), app_name.to_lowercase()).as_bytes(),
        );
        let body: String = digest.as_ref()[..12]
            .iter()
            .map(|b| char::from(BASE62[usize::from(*b) % BASE62.len()]))
            .collect();
        let id15 = format!("{}{body}", Self::PREFIX);
        Self(format!("{id15}{}", checksum(&id15)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::DeterministicRng;

    #[test]
    fn checksum_matches_real_ids() {
        // Real id pairs from public samples (`spec/oauth-and-connect.md` §1.11).
        for (id15, id18) in [
            ("00D50000000IZ3Z", "00D50000000IZ3ZEAW"),
            ("00550000001fg5O", "00550000001fg5OAAQ"),
            ("0052o00000DOJ1P", "0052o00000DOJ1PAAX"),
        ] {
            assert_eq!(to_18(id15).unwrap(), id18);
            assert_eq!(to_18(id18).unwrap(), id18);
            assert_eq!(
                to_18(&id18.to_ascii_lowercase()).unwrap(),
                id18,
                "18-char ids ignore case"
            );
        }
    }

    #[test]
    fn app_ids_are_derived_stably_and_parse_in_both_forms() {
        let org = OrgId::parse("00D50000000IZ3Z").unwrap();
        let id = ExternalClientAppId::of_app(&org, "My_App");
        assert_eq!(id, ExternalClientAppId::of_app(&org, "my_app"));
        assert_ne!(id, ExternalClientAppId::of_app(&org, "Other"));
        assert!(id.as_str().starts_with("0xI") && id.as_str().len() == 18);
        assert_eq!(ExternalClientAppId::parse(id.as_15()).unwrap(), id);
        assert_eq!(
            ExternalClientAppId::parse(&id.as_str().to_ascii_lowercase()).unwrap(),
            id
        );
        let other = OrgId::parse("00D50000000IZ4Z").unwrap();
        assert_ne!(id, ExternalClientAppId::of_app(&other, "My_App"));
    }

    #[test]
    fn parses_by_kind() {
        let org = OrgId::parse("00D50000000IZ3Z").unwrap();
        assert_eq!(org.as_str(), "00D50000000IZ3ZEAW");
        assert_eq!(org.as_15(), "00D50000000IZ3Z");
        assert!(matches!(
            UserId::parse("00D50000000IZ3Z"),
            Err(IdError::Prefix { .. })
        ));
        assert!(matches!(OrgId::parse("00D5000"), Err(IdError::Length(_))));
        assert!(matches!(
            OrgId::parse("00D50000000IZ3Z!!!"),
            Err(IdError::Characters(_))
        ));
        assert!(matches!(
            OrgId::parse("00D50000000IZ3Z999"),
            Err(IdError::Checksum(_))
        ));
    }

    #[test]
    fn generated_ids_round_trip() {
        let rng = DeterministicRng::new(7);
        for _ in 0..100 {
            let id = UserId::generate(&rng);
            assert_eq!(UserId::parse(id.as_str()).unwrap(), id);
            assert_eq!(UserId::parse(id.as_15()).unwrap(), id);
        }
    }
}
