//! A service provider as the IdP engine uses it, built once from the validated
//! `ExtlClntAppSamlConfigurablePolicies` (`spec/metadata.md` §2.6), and the identifier
//! newtypes of SAML messages.

use eca_metadata::model::{
    NameIdFormat, SamlBinding, SamlEncryptionType, SamlPolicies, SamlSigningAlgorithm,
    SamlSubjectType,
};

use crate::encryption::{ContentCipher, EncryptionKey};
use crate::error::SamlError;
use crate::keys::Certificate;

/// A SAML entity id (SAML Core §8.3.6): a service provider's `entityUrl` or the IdP's issuer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityId(String);

impl EntityId {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EntityId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A request's `ID` (an `xs:ID`, SAML Core §1.3.4), echoed as `InResponseTo`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// The longest ID accepted; SAML Core §1.3.4 asks for 128 to 160 bits of randomness,
    /// which real SPs write in well under 100 characters.
    pub const MAX_LEN: usize = 256;

    /// Checks the shape of an `xs:ID` (an NCName): not empty, bounded, starting with a letter
    /// or `_`, then letters, digits, `.`, `-`, `_`.
    pub fn parse(s: &str) -> Result<Self, SamlError> {
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
        if !first_ok
            || s.len() > Self::MAX_LEN
            || !chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(SamlError::Malformed("the ID is not an xs:ID"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The `NameID` format URI (SAML Core §8.3).
pub const fn name_id_format_uri(f: NameIdFormat) -> &'static str {
    match f {
        NameIdFormat::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
        NameIdFormat::EmailAddress => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
        NameIdFormat::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
        NameIdFormat::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    }
}

/// A registered service provider.
#[derive(Debug, Clone)]
pub struct ServiceProvider {
    pub entity_id: EntityId,
    /// Where Responses go; the only URL they ever go to.
    pub acs_url: String,
    /// The IdP issuer for this SP; the org's base URL when absent.
    pub issuer: Option<EntityId>,
    pub name_id_format: NameIdFormat,
    pub subject_type: SamlSubjectType,
    pub subject_custom_attribute: Option<String>,
    /// When set, every request must be signed with this certificate's key.
    pub request_certificate: Option<Certificate>,
    /// `signingAlgorithmType` `SHA1`: the SP's RSA-SHA1 request signatures are accepted.
    pub allows_sha1: bool,
    pub single_logout_url: Option<String>,
    pub single_logout_binding: Option<SamlBinding>,
    /// `encryptionCertificate` as written (checked to be a usable RSA certificate); see
    /// [`Self::encryption_key`].
    pub encryption_certificate: Option<String>,
    pub encryption_type: Option<SamlEncryptionType>,
    /// `commaSeparatedProfile`: profiles allowed to use SSO (ids, or names as written).
    pub profiles: Vec<String>,
    /// `commaSeparatedPermissionSet`: permission sets allowed to use SSO.
    pub permission_sets: Vec<String>,
}

impl ServiceProvider {
    /// Whether a user may use SSO into this app (`spec/metadata.md` §2.6: the profiles and
    /// permission sets apply to the whole app). With neither list set, every user may; else
    /// the user's profile must be listed or one of their permission sets. The caller passes
    /// every identifier it has (ids in 15 or 18 characters, names): ids are compared in
    /// their 18-character form, names exactly.
    pub fn permits(&self, profile: &[&str], permission_sets: &[&str]) -> Result<(), SamlError> {
        if self.profiles.is_empty() && self.permission_sets.is_empty() {
            return Ok(());
        }
        let norm = |s: &str| eca_core::ids::to_18(s.trim()).unwrap_or_else(|_| s.trim().to_owned());
        let any = |allowed: &[String], held: &[&str]| {
            held.iter()
                .any(|h| allowed.iter().any(|a| norm(a) == norm(h)))
        };
        if any(&self.profiles, profile) || any(&self.permission_sets, permission_sets) {
            Ok(())
        } else {
            Err(SamlError::UserNotPermitted)
        }
    }

    /// The key assertions are encrypted for, when the SP registered an
    /// `encryptionCertificate`; its `encryptionType` (AES-128 when absent) picks the key
    /// size, `needs_cbc` the mode (see [`ContentCipher::from_policy`]).
    pub fn encryption_key(
        &self,
        needs_cbc: bool,
    ) -> Result<Option<(EncryptionKey, ContentCipher)>, SamlError> {
        let Some(c) = &self.encryption_certificate else {
            return Ok(None);
        };
        let t = self.encryption_type.unwrap_or(SamlEncryptionType::Aes128);
        Ok(Some((
            EncryptionKey::from_certificate(c)?,
            ContentCipher::from_policy(t, needs_cbc),
        )))
    }

    /// From the app's SAML policies. Validation has already required `acsUrl` and
    /// `entityUrl`; their absence here is a configuration error all the same.
    pub fn from_policies(p: &SamlPolicies) -> Result<Self, SamlError> {
        let nonempty = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let entity_id = nonempty(&p.entity_url).ok_or(SamlError::Configuration("no entityUrl"))?;
        let acs_url = nonempty(&p.acs_url).ok_or(SamlError::Configuration("no acsUrl"))?;
        let encryption_certificate = nonempty(&p.encryption_certificate);
        if let Some(c) = &encryption_certificate {
            EncryptionKey::from_certificate(c)?;
        }
        let request_certificate = nonempty(&p.certificate)
            .map(|c| Certificate::parse(&c))
            .transpose()?;
        Ok(Self {
            entity_id: EntityId::new(entity_id),
            acs_url,
            issuer: nonempty(&p.issuer).map(EntityId::new),
            name_id_format: p.name_id(),
            subject_type: p.subject_type.unwrap_or(SamlSubjectType::Username),
            subject_custom_attribute: nonempty(&p.subject_custom_attribute),
            request_certificate,
            allows_sha1: p.signing_algorithm == Some(SamlSigningAlgorithm::Sha1),
            single_logout_url: nonempty(&p.single_logout_url),
            single_logout_binding: p.single_logout_binding,
            encryption_certificate,
            encryption_type: p.encryption_type,
            profiles: p.profiles().into_iter().map(str::to_owned).collect(),
            permission_sets: p.permission_sets().into_iter().map(str::to_owned).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::test_keys::SP_CRT;

    #[test]
    fn from_policies() {
        let p = SamlPolicies {
            entity_url: Some("https://sp.example/metadata".into()),
            acs_url: Some("https://sp.example/acs".into()),
            certificate: Some(SP_CRT.into()),
            signing_algorithm: Some(SamlSigningAlgorithm::Sha1),
            ..SamlPolicies::default()
        };
        let sp = ServiceProvider::from_policies(&p).unwrap();
        assert_eq!(sp.entity_id.as_str(), "https://sp.example/metadata");
        assert!(sp.request_certificate.is_some());
        assert!(sp.allows_sha1);
        assert_eq!(sp.name_id_format, NameIdFormat::Unspecified);
        assert_eq!(sp.subject_type, SamlSubjectType::Username);

        let cases: &[(SamlPolicies, SamlError)] = &[
            (
                SamlPolicies {
                    acs_url: Some("https://sp.example/acs".into()),
                    ..SamlPolicies::default()
                },
                SamlError::Configuration("no entityUrl"),
            ),
            (
                SamlPolicies {
                    entity_url: Some("x".into()),
                    acs_url: Some(" ".into()),
                    ..SamlPolicies::default()
                },
                SamlError::Configuration("no acsUrl"),
            ),
            (
                SamlPolicies {
                    certificate: Some("junk".into()),
                    ..p.clone()
                },
                SamlError::Configuration("not an X.509 certificate"),
            ),
        ];
        for (policies, expected) in cases {
            assert_eq!(
                ServiceProvider::from_policies(policies).err().as_ref(),
                Some(expected)
            );
        }
    }

    #[test]
    fn permissions() {
        let base = SamlPolicies {
            entity_url: Some("e".into()),
            acs_url: Some("a".into()),
            ..SamlPolicies::default()
        };
        let open = ServiceProvider::from_policies(&base).unwrap();
        assert_eq!(open.permits(&[], &[]), Ok(()));
        let closed = ServiceProvider::from_policies(&SamlPolicies {
            comma_separated_profile: Some("00e000000000001, Standard User".into()),
            comma_separated_permission_set: Some("0PS000000000009GAA".into()),
            ..base
        })
        .unwrap();
        let cases: &[(&[&str], &[&str], bool)] = &[
            (&["00e000000000001AAA"], &[], true),
            (&["00e000000000001"], &[], true),
            (&["00e000000000002AAA", "Standard User"], &[], true),
            (&["00e000000000002AAA"], &["0PS000000000009"], true),
            (&[], &["0ps000000000009gaa"], true),
            (&["00e000000000002AAA"], &["0PS000000000008"], false),
            (&["standard user"], &[], false),
            (&[], &[], false),
        ];
        for (profile, sets, ok) in cases {
            let expected = if *ok {
                Ok(())
            } else {
                Err(SamlError::UserNotPermitted)
            };
            assert_eq!(
                closed.permits(profile, sets),
                expected,
                "{profile:?} {sets:?}"
            );
        }
    }

    #[test]
    fn request_ids() {
        for ok in [
            "_abc",
            "ONELOGIN_809707f0030a5d00620c9d9df97f627afe9dcc24",
            "id-Xy.1_2",
        ] {
            assert!(RequestId::parse(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(300);
        for bad in ["", "1abc", "a b", "a<b", long.as_str()] {
            assert!(RequestId::parse(bad).is_err(), "{bad}");
        }
    }
}
