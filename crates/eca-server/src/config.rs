//! Server configuration as a value. The binary gathers it from flags, the environment and a
//! TOML file (in that order of precedence) and hands it in; this crate never reads the
//! environment itself (`clippy.toml`, `STYLE.md` "No globals").

use crate::proxy::TrustedProxies;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use eca_core::Secret;
use serde::Deserialize;

/// The default listen address (issue 3: `--listen`, `ECA_LISTEN`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// The default data folder, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = ".eca";
/// Requests larger than this are refused with 413 before they are read.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// A request that takes longer than this is answered with 503.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{key}: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("the configuration file is not valid TOML: {0}")]
    Toml(String),
}

fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        message: message.into(),
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(invalid(
                "log_format",
                format!("`{other}` is neither `text` nor `json`"),
            )),
        }
    }
}

/// The base URL the server tells clients: `http(s)://authority[/path]`, without a trailing
/// slash. Only the scheme and the path are used when a request brings its own `Host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    scheme: String,
    authority: String,
    path: String,
}

impl PublicUrl {
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let text = text.trim();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("public_url", format!("`{text}` is not an http(s) URL")))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(invalid(
                "public_url",
                format!("`{text}` must start with http:// or https://"),
            ));
        }
        if rest.contains(['?', '#']) {
            return Err(invalid(
                "public_url",
                format!("`{text}` must not have a query or a fragment"),
            ));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if !is_authority(authority) {
            return Err(invalid("public_url", format!("`{text}` has no valid host")));
        }
        Ok(Self {
            scheme,
            authority: authority.to_ascii_lowercase(),
            path: path.to_owned(),
        })
    }

    /// `http://<addr>`; an unspecified address (`0.0.0.0`, `::`) becomes `localhost`, which
    /// clients on the same machine can reach.
    pub fn for_listen_addr(addr: SocketAddr) -> Self {
        let authority = if addr.ip().is_unspecified() {
            format!("localhost:{}", addr.port())
        } else {
            addr.to_string()
        };
        Self {
            scheme: "http".to_owned(),
            authority,
            path: String::new(),
        }
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// `host[:port]`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host without the port (IPv6 literals keep their brackets).
    pub fn host(&self) -> &str {
        host_of(&self.authority)
    }

    /// The path prefix, empty or starting with `/`, never ending with `/`.
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}{}", self.scheme, self.authority, self.path)
    }
}

/// Whether `s` looks like `host[:port]`: letters, digits, `.-_`, an optional bracketed IPv6
/// literal and an optional numeric port. Used for `Host` headers too, which are client input.
pub fn is_authority(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, tail)) if v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') => {
                (v6, tail.strip_prefix(':'))
            }
            _ => return false,
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':'));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// The host part of `host[:port]`.
pub fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .split_once(']')
            .map_or(authority, |(h, _)| &authority[..=h.len()]);
    }
    authority.split_once(':').map_or(authority, |(h, _)| h)
}

/// One source of settings: every field optional. Sources are layered with
/// [`ConfigLayer::or`], the first that sets a value wins. The TOML file uses these field names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub log_format: Option<String>,
    pub demo: Option<bool>,
    #[serde(default, deserialize_with = "secret_opt")]
    pub admin_password: Option<Secret>,
    #[serde(default, deserialize_with = "secret_opt")]
    pub master_key: Option<Secret>,
    /// The largest request body in bytes.
    pub body_limit: Option<usize>,
    /// Seconds before a request is answered with 503.
    pub request_timeout_secs: Option<u64>,
    /// One INFO line per request (method, path, status, latency).
    pub access_log: Option<bool>,
    /// Addresses or CIDR blocks of reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Option<Vec<String>>,
}

fn secret_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(Secret::new))
}

impl ConfigLayer {
    /// Reads a configuration file's text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml(e.to_string()))
    }

    /// `self`, with every unset field taken from `lower`.
    #[must_use]
    pub fn or(self, lower: ConfigLayer) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen.or(lower.listen),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            public_url: self.public_url.or(lower.public_url),
            log_format: self.log_format.or(lower.log_format),
            demo: self.demo.or(lower.demo),
            admin_password: self.admin_password.or(lower.admin_password),
            master_key: self.master_key.or(lower.master_key),
            body_limit: self.body_limit.or(lower.body_limit),
            request_timeout_secs: self.request_timeout_secs.or(lower.request_timeout_secs),
            access_log: self.access_log.or(lower.access_log),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
        }
    }
}

/// The resolved configuration of `eca serve`.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// May carry a database password: never logged (log [`Config::database_kind`]).
    pub database_url: Secret,
    /// `None`: `http://<bound address>`, known once the listener is bound.
    pub public_url: Option<PublicUrl>,
    pub log_format: LogFormat,
    pub demo: bool,
    /// The first admin's password (`ECA_ADMIN_PASSWORD`); generated when absent.
    pub admin_password: Option<Secret>,
    /// `ECA_MASTER_KEY`; else the key file in the data folder.
    pub master_key: Option<Secret>,
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// One INFO line per request; off by default (the line is then at DEBUG).
    pub access_log: bool,
    /// Proxies whose `X-Forwarded-For` names the client (`proxy`); none by default.
    pub trusted_proxies: TrustedProxies,
}

impl Config {
    /// Fills in defaults and checks every value.
    pub fn resolve(layer: ConfigLayer) -> Result<Config, ConfigError> {
        let listen_text = layer.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.trim().parse().map_err(|_| {
            invalid(
                "listen",
                format!("`{listen_text}` is not an address like 127.0.0.1:8080"),
            )
        })?;
        let data_dir = layer
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = match layer.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_owned(),
            _ => default_database_url(&data_dir),
        };
        let public_url = layer
            .public_url
            .filter(|u| !u.trim().is_empty())
            .map(|u| PublicUrl::parse(&u))
            .transpose()?;
        let log_format = layer
            .log_format
            .map(|f| f.parse())
            .transpose()?
            .unwrap_or_default();
        let body_limit = layer.body_limit.unwrap_or(DEFAULT_BODY_LIMIT);
        if body_limit < 1024 {
            return Err(invalid("body_limit", "must be at least 1024 bytes"));
        }
        let request_timeout = layer
            .request_timeout_secs
            .map_or(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs);
        if request_timeout.is_zero() {
            return Err(invalid("request_timeout_secs", "must be at least 1"));
        }
        let trusted_proxies =
            TrustedProxies::parse(layer.trusted_proxies.as_deref().unwrap_or_default())
                .map_err(|e| invalid("trusted_proxies", e))?;
        Ok(Config {
            listen,
            data_dir,
            database_url: Secret::new(database_url),
            public_url,
            log_format,
            demo: layer.demo.unwrap_or(false),
            admin_password: layer.admin_password.filter(|p| !p.is_empty()),
            master_key: layer.master_key.filter(|k| !k.is_empty()),
            body_limit,
            request_timeout,
            access_log: layer.access_log.unwrap_or(false),
            trusted_proxies,
        })
    }

    /// `sqlite` or `postgres`, for logs (the URL itself may hold a password).
    pub fn database_kind(&self) -> &'static str {
        if self.database_url.expose().starts_with("postgres") {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

/// `sqlite://<data_dir>/eca.db`.
pub fn default_database_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("eca.db").display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_resolve_first_wins() {
        let flags = ConfigLayer {
            listen: Some("127.0.0.1:9000".into()),
            ..ConfigLayer::default()
        };
        let file = ConfigLayer::from_toml(
            "listen = \"0.0.0.0:1\"\ndata_dir = \"/srv/eca\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let config = Config::resolve(flags.or(file)).unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.data_dir, PathBuf::from("/srv/eca"));
        assert_eq!(config.database_url.expose(), "sqlite:///srv/eca/eca.db");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.body_limit, DEFAULT_BODY_LIMIT);
        assert!(ConfigLayer::from_toml("nope = 1").is_err());
        assert!(
            Config::resolve(ConfigLayer {
                listen: Some("nowhere".into()),
                ..ConfigLayer::default()
            })
            .is_err()
        );
        assert!(config.trusted_proxies.is_empty());
        let proxied =
            ConfigLayer::from_toml("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]").unwrap();
        let config = Config::resolve(proxied).unwrap();
        assert!(config.trusted_proxies.contains("10.2.3.4".parse().unwrap()));
        let wrong = ConfigLayer::from_toml("trusted_proxies = [\"lb.internal\"]").unwrap();
        let message = Config::resolve(wrong).unwrap_err().to_string();
        assert!(
            message.contains("trusted_proxies") && message.contains("lb.internal"),
            "{message}"
        );
    }

    #[test]
    fn public_urls() {
        let u = PublicUrl::parse("https://Eca.Example.com:8443/base/").unwrap();
        assert_eq!(u.to_string(), "https://eca.example.com:8443/base");
        assert_eq!(u.host(), "eca.example.com");
        assert!(PublicUrl::parse("ftp://x").is_err());
        assert!(PublicUrl::parse("http://").is_err());
        assert!(PublicUrl::parse("http://a b").is_err());
        let any = PublicUrl::for_listen_addr("0.0.0.0:80".parse().unwrap());
        assert_eq!(any.to_string(), "http://localhost:80");
        assert!(is_authority("[::1]:8080"));
        assert_eq!(host_of("[::1]:8080"), "[::1]");
        assert!(!is_authority("evil.com/x"));
        assert!(!is_authority("a:b"));
    }
}
