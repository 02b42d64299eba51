//! Token-endpoint requests: from the decoded form parameters to a closed [`TokenRequest`]
//! (RFC 6749 §3.2, §4.1.3, §4.3.2, §4.4.2, §6; RFC 7523 §2.1; RFC 8628 §3.1, §3.4; and
//! Salesforce's device-flow spelling, `spec/oauth-and-connect.md` §1.9).
//!
//! The HTTP layer decodes the body (urlencoded, chunked or not, or multipart) into
//! `(name, value)` pairs in order and hands them over; nothing here knows HTTP.
//!
//! - A known parameter sent twice is `invalid_request` naming it (RFC 6749 §3.2), whatever
//!   the grant; unknown parameters are ignored (RFC 6749 §3.2 too).
//! - An empty value counts as absent (RFC 6749 §3.1).
//! - A missing `grant_type` is `unsupported_grant_type` / `grant type not supported`, as
//!   Salesforce answers a body it could not read (RFC 6749 would say `invalid_request`;
//!   compatibility wins, and both are HTTP 400).
//! - `response_type=device_code` without a `grant_type` is Salesforce's device authorization
//!   request; the poll is `grant_type=device` with `code=`, or RFC 8628's
//!   `urn:ietf:params:oauth:grant-type:device_code` with `device_code=`. Either parameter
//!   name is accepted with either grant type; if both come they must agree.
//! - Client credentials (`client_id`, `client_secret`) are carried out unparsed for
//!   [`crate::client_auth::extract`], which also sees the `Authorization` header.

use eca_core::Secret;

use crate::error::{OAuthError, RequestProblem};

/// Every parameter the token endpoint understands; only these are checked for repeats.
const KNOWN: &[&str] = &[
    "grant_type",
    "response_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "username",
    "password",
    "assertion",
    "device_code",
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
    "format",
];

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const DEVICE_CODE_RFC: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The grant types this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
    JwtBearer,
    DeviceCode,
}

impl GrantType {
    /// The grant type of a `grant_type` value (both device-flow spellings).
    pub fn from_wire(value: &str) -> Option<Self> {
        Some(match value {
            "authorization_code" => GrantType::AuthorizationCode,
            "refresh_token" => GrantType::RefreshToken,
            "client_credentials" => GrantType::ClientCredentials,
            "password" => GrantType::Password,
            JWT_BEARER => GrantType::JwtBearer,
            "device" | DEVICE_CODE_RFC => GrantType::DeviceCode,
            _ => return None,
        })
    }

    /// The standard `grant_type` value, as discovery lists it.
    pub fn wire(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::Password => "password",
            GrantType::JwtBearer => JWT_BEARER,
            GrantType::DeviceCode => DEVICE_CODE_RFC,
        }
    }

    /// The flow's name in prose, for error descriptions.
    pub fn flow_name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization code",
            GrantType::RefreshToken => "refresh token",
            GrantType::ClientCredentials => "client credentials",
            GrantType::Password => "username-password",
            GrantType::JwtBearer => "JWT bearer",
            GrantType::DeviceCode => "device",
        }
    }
}

/// Which spelling of the device-flow poll the client used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceCodeForm {
    /// `grant_type=device`, `code=` (Salesforce, @salesforce/core).
    Salesforce,
    /// `grant_type=urn:ietf:params:oauth:grant-type:device_code`, `device_code=` (RFC 8628).
    Rfc8628,
}

/// One token-endpoint request, by grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3 (+ RFC 7636 §4.5).
    AuthorizationCode {
        code: Secret,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    /// RFC 6749 §6.
    RefreshToken {
        refresh_token: Secret,
        scope: Option<String>,
    },
    /// RFC 6749 §4.4.2.
    ClientCredentials { scope: Option<String> },
    /// RFC 6749 §4.3.2. The password may carry the security token appended.
    Password {
        username: String,
        password: Secret,
        scope: Option<String>,
    },
    /// RFC 7523 §2.1.
    JwtBearer { assertion: Secret },
    /// RFC 8628 §3.4, or Salesforce's spelling.
    DeviceCode {
        device_code: Secret,
        form: DeviceCodeForm,
    },
    /// Salesforce's device authorization request on the token endpoint
    /// (`response_type=device_code`), or RFC 8628 §3.1 on its own endpoint.
    DeviceAuthorization { scope: Option<String> },
}

impl TokenRequest {
    /// The grant this request asks for (`None` for a device authorization request).
    pub fn grant_type(&self) -> Option<GrantType> {
        Some(match self {
            TokenRequest::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            TokenRequest::RefreshToken { .. } => GrantType::RefreshToken,
            TokenRequest::ClientCredentials { .. } => GrantType::ClientCredentials,
            TokenRequest::Password { .. } => GrantType::Password,
            TokenRequest::JwtBearer { .. } => GrantType::JwtBearer,
            TokenRequest::DeviceCode { .. } => GrantType::DeviceCode,
            TokenRequest::DeviceAuthorization { .. } => return None,
        })
    }
}

/// A parsed request with the body's client credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTokenRequest {
    pub request: TokenRequest,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
}

/// The decoded parameters, checked for repeats once.
#[derive(Clone, Copy)]
struct Params<'a>(&'a [(String, String)]);

impl<'a> Params<'a> {
    fn new(pairs: &'a [(String, String)]) -> Result<Self, OAuthError> {
        for name in KNOWN {
            if pairs.iter().filter(|(n, _)| n == name).count() > 1 {
                return Err(OAuthError::InvalidRequest(RequestProblem::Repeated(name)));
            }
        }
        Ok(Self(pairs))
    }

    /// The value of `name`; empty means absent.
    fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn require(&self, name: &'static str) -> Result<&'a str, OAuthError> {
        self.get(name)
            .ok_or(OAuthError::InvalidRequest(RequestProblem::Missing(name)))
    }

    fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    fn secret(&self, name: &'static str) -> Result<Secret, OAuthError> {
        self.require(name).map(Secret::new)
    }

    fn client(&self, request: TokenRequest) -> ParsedTokenRequest {
        ParsedTokenRequest {
            request,
            client_id: self.owned("client_id"),
            client_secret: self.get("client_secret").map(Secret::new),
        }
    }
}

/// Parses a token-endpoint request.
pub fn parse_token_request(pairs: &[(String, String)]) -> Result<ParsedTokenRequest, OAuthError> {
    let p = Params::new(pairs)?;
    let Some(grant_type) = p.get("grant_type") else {
        return match p.get("response_type") {
            Some("device_code") => Ok(p.client(TokenRequest::DeviceAuthorization {
                scope: p.owned("scope"),
            })),
            Some(_) => Err(OAuthError::UnsupportedResponseType),
            None => Err(OAuthError::UnsupportedGrantType),
        };
    };
    let grant = GrantType::from_wire(grant_type).ok_or(OAuthError::UnsupportedGrantType)?;
    let request = match grant {
        GrantType::AuthorizationCode => TokenRequest::AuthorizationCode {
            code: p.secret("code")?,
            redirect_uri: p.owned("redirect_uri"),
            code_verifier: p.owned("code_verifier"),
        },
        GrantType::RefreshToken => TokenRequest::RefreshToken {
            refresh_token: p.secret("refresh_token")?,
            scope: p.owned("scope"),
        },
        GrantType::ClientCredentials => TokenRequest::ClientCredentials {
            scope: p.owned("scope"),
        },
        GrantType::Password => TokenRequest::Password {
            username: p.require("username")?.to_owned(),
            password: p.secret("password")?,
            scope: p.owned("scope"),
        },
        GrantType::JwtBearer => TokenRequest::JwtBearer {
            assertion: p.secret("assertion")?,
        },
        GrantType::DeviceCode => {
            let (form, primary) = if grant_type == "device" {
                (DeviceCodeForm::Salesforce, "code")
            } else {
                (DeviceCodeForm::Rfc8628, "device_code")
            };
            let device_code = match (p.get("code"), p.get("device_code")) {
                (Some(a), Some(b)) if a != b => {
                    return Err(OAuthError::InvalidRequest(
                        RequestProblem::ConflictingDeviceCode,
                    ));
                }
                (Some(v), _) | (None, Some(v)) => Secret::new(v),
                (None, None) => {
                    return Err(OAuthError::InvalidRequest(RequestProblem::Missing(primary)));
                }
            };
            TokenRequest::DeviceCode { device_code, form }
        }
    };
    Ok(p.client(request))
}

/// Parses a request to the RFC 8628 §3.1 device authorization endpoint (`client_id`,
/// optional `scope`).
pub fn parse_device_authorization(
    pairs: &[(String, String)],
) -> Result<ParsedTokenRequest, OAuthError> {
    let p = Params::new(pairs)?;
    Ok(p.client(TokenRequest::DeviceAuthorization {
        scope: p.owned("scope"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Form parameters and the request, or error, they parse to.
    type Case = (
        &'static [(&'static str, &'static str)],
        Result<TokenRequest, OAuthError>,
    );

    fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
        s.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn check(input: &[(&str, &str)], expected: Result<TokenRequest, OAuthError>) {
        let got = parse_token_request(&pairs(input)).map(|p| p.request);
        assert_eq!(got, expected, "{input:?}");
    }

    fn s(v: &str) -> Secret {
        Secret::new(v)
    }

    #[test]
    fn grants() {
        use TokenRequest as T;
        let table: Vec<Case> = vec![
            // The CLI's web login (spec §5.2).
            (
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "aPrxabc=="),
                    ("client_id", "PlatformCLI"),
                    ("redirect_uri", "http://localhost:1717/OauthRedirect"),
                    ("code_verifier", "v"),
                ],
                Ok(T::AuthorizationCode {
                    code: s("aPrxabc=="),
                    redirect_uri: Some("http://localhost:1717/OauthRedirect".into()),
                    code_verifier: Some("v".into()),
                }),
            ),
            (
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "c"),
                    ("redirect_uri", ""),
                ],
                Ok(T::AuthorizationCode {
                    code: s("c"),
                    redirect_uri: None,
                    code_verifier: None,
                }),
            ),
            // sfdx-url login.
            (
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "5Aep861x"),
                    ("client_id", "PlatformCLI"),
                ],
                Ok(T::RefreshToken {
                    refresh_token: s("5Aep861x"),
                    scope: None,
                }),
            ),
            (
                &[("grant_type", "client_credentials")],
                Ok(T::ClientCredentials { scope: None }),
            ),
            (
                &[("grant_type", "client_credentials"), ("scope", "api")],
                Ok(T::ClientCredentials {
                    scope: Some("api".into()),
                }),
            ),
            (
                &[
                    ("grant_type", "password"),
                    ("username", "u@x"),
                    ("password", "pwTOKEN"),
                ],
                Ok(T::Password {
                    username: "u@x".into(),
                    password: s("pwTOKEN"),
                    scope: None,
                }),
            ),
            (
                &[("grant_type", JWT_BEARER), ("assertion", "a.b.c")],
                Ok(T::JwtBearer {
                    assertion: s("a.b.c"),
                }),
            ),
            // Device flow, both spellings, and the authorization request.
            (
                &[("grant_type", "device"), ("client_id", "k"), ("code", "dc")],
                Ok(T::DeviceCode {
                    device_code: s("dc"),
                    form: DeviceCodeForm::Salesforce,
                }),
            ),
            (
                &[("grant_type", DEVICE_CODE_RFC), ("device_code", "dc")],
                Ok(T::DeviceCode {
                    device_code: s("dc"),
                    form: DeviceCodeForm::Rfc8628,
                }),
            ),
            (
                &[
                    ("grant_type", "device"),
                    ("device_code", "dc"),
                    ("code", "dc"),
                ],
                Ok(T::DeviceCode {
                    device_code: s("dc"),
                    form: DeviceCodeForm::Salesforce,
                }),
            ),
            (
                &[
                    ("response_type", "device_code"),
                    ("client_id", "k"),
                    ("scope", "refresh_token web api"),
                ],
                Ok(T::DeviceAuthorization {
                    scope: Some("refresh_token web api".into()),
                }),
            ),
            // Unknown parameters are ignored, even repeated.
            (
                &[("grant_type", "client_credentials"), ("x", "1"), ("x", "2")],
                Ok(T::ClientCredentials { scope: None }),
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    #[test]
    fn errors() {
        use RequestProblem as P;
        let missing = |p| Err(OAuthError::InvalidRequest(P::Missing(p)));
        let repeated = |p| Err(OAuthError::InvalidRequest(P::Repeated(p)));
        let table: Vec<Case> = vec![
            (&[], Err(OAuthError::UnsupportedGrantType)),
            (&[("grant_type", "")], Err(OAuthError::UnsupportedGrantType)),
            (
                &[("grant_type", "implicit")],
                Err(OAuthError::UnsupportedGrantType),
            ),
            (
                &[("grant_type", "Password")],
                Err(OAuthError::UnsupportedGrantType),
            ),
            (
                &[(
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                )],
                Err(OAuthError::UnsupportedGrantType),
            ),
            (
                &[("response_type", "code")],
                Err(OAuthError::UnsupportedResponseType),
            ),
            (&[("grant_type", "authorization_code")], missing("code")),
            (
                &[("grant_type", "authorization_code"), ("code", "")],
                missing("code"),
            ),
            (&[("grant_type", "refresh_token")], missing("refresh_token")),
            (
                &[("grant_type", "password"), ("password", "p")],
                missing("username"),
            ),
            (
                &[("grant_type", "password"), ("username", "u")],
                missing("password"),
            ),
            (&[("grant_type", JWT_BEARER)], missing("assertion")),
            (&[("grant_type", "device")], missing("code")),
            (&[("grant_type", DEVICE_CODE_RFC)], missing("device_code")),
            (
                &[
                    ("grant_type", "device"),
                    ("code", "a"),
                    ("device_code", "b"),
                ],
                Err(OAuthError::InvalidRequest(P::ConflictingDeviceCode)),
            ),
            // RFC 6749 §3.2: no parameter twice, not even an identical one.
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("grant_type", "client_credentials"),
                ],
                repeated("grant_type"),
            ),
            (
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "a"),
                    ("code", "b"),
                ],
                repeated("code"),
            ),
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("client_secret", "a"),
                    ("client_secret", ""),
                ],
                repeated("client_secret"),
            ),
            (
                &[
                    ("grant_type", "client_credentials"),
                    ("scope", "api"),
                    ("scope", "web"),
                ],
                repeated("scope"),
            ),
            (
                &[
                    ("grant_type", "password"),
                    ("username", "u"),
                    ("password", "p"),
                    ("format", "json"),
                    ("format", "xml"),
                ],
                repeated("format"),
            ),
        ];
        for (input, expected) in table {
            check(input, expected);
        }
    }

    #[test]
    fn client_fields_are_carried() {
        let p = parse_token_request(&pairs(&[
            ("grant_type", "client_credentials"),
            ("client_id", "3MVG9x"),
            ("client_secret", "S"),
        ]))
        .unwrap();
        assert_eq!(p.client_id.as_deref(), Some("3MVG9x"));
        assert_eq!(p.client_secret, Some(s("S")));
        let p = parse_token_request(&pairs(&[
            ("grant_type", "client_credentials"),
            ("client_secret", ""),
        ]))
        .unwrap();
        assert_eq!(p.client_secret, None);
        let d =
            parse_device_authorization(&pairs(&[("client_id", "k"), ("scope", "api")])).unwrap();
        assert_eq!(
            d.request,
            TokenRequest::DeviceAuthorization {
                scope: Some("api".into())
            }
        );
        assert_eq!(d.request.grant_type(), None);
        assert!(
            parse_device_authorization(&pairs(&[("client_id", "k"), ("client_id", "k")])).is_err()
        );
    }

    #[test]
    fn grant_type_names() {
        let table: &[(&str, Option<GrantType>)] = &[
            ("authorization_code", Some(GrantType::AuthorizationCode)),
            ("refresh_token", Some(GrantType::RefreshToken)),
            ("client_credentials", Some(GrantType::ClientCredentials)),
            ("password", Some(GrantType::Password)),
            (JWT_BEARER, Some(GrantType::JwtBearer)),
            ("device", Some(GrantType::DeviceCode)),
            (DEVICE_CODE_RFC, Some(GrantType::DeviceCode)),
            ("jwt-bearer", None),
            ("", None),
        ];
        for (wire, expected) in table {
            assert_eq!(GrantType::from_wire(wire), *expected, "{wire}");
            if let Some(g) = expected {
                assert_eq!(GrantType::from_wire(g.wire()), Some(*g));
            }
        }
        let r = TokenRequest::JwtBearer { assertion: s("x") };
        assert_eq!(r.grant_type(), Some(GrantType::JwtBearer));
        assert_eq!(format!("{r:?}"), "JwtBearer { assertion: Secret(***) }");
    }
}
