//! Stored logins, like `sf`'s authorizations: `eca login` writes one JSON file per alias (or
//! username) under `<config dir>/auth/`, mode 0600 since it holds a session id, and a
//! `default` file naming the login used when `--target-org` is not given. The config dir is
//! `$ECA_CONFIG_DIR`, else `$HOME/.eca`.
//!
//! Also here: the HTTP client the server commands share (ureq, blocking; TLS through rustls on
//! aws-lc-rs, the crypto library the rest of the workspace already uses).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};

/// What `eca login` keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredLogin {
    /// The URL given at login, without a trailing slash; later calls go there.
    pub instance_url: String,
    pub username: String,
    pub org_id: String,
    pub user_id: String,
    /// The session id: a bearer credential.
    pub session_id: String,
    /// The SOAP `serverUrl` the login answered with.
    pub server_url: String,
}

/// The folder of stored logins.
#[derive(Debug, Clone)]
pub struct AuthDir(PathBuf);

impl AuthDir {
    /// `<config dir>/auth`.
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self(config_dir()?.join("auth")))
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(format!("{name}.json"))
    }

    /// Saves a login under `name`; makes it the default when asked or when there is none.
    pub fn save(
        &self,
        name: &str,
        login: &StoredLogin,
        make_default: bool,
    ) -> anyhow::Result<PathBuf> {
        check_name(name)?;
        create_private_dir(&self.0)?;
        let path = self.file(name);
        let text = serde_json::to_string_pretty(login)?;
        write_private(&path, text.as_bytes())?;
        if make_default || self.default_name()?.is_none() {
            write_private(&self.0.join("default"), name.as_bytes())?;
        }
        Ok(path)
    }

    fn default_name(&self) -> anyhow::Result<Option<String>> {
        match std::fs::read_to_string(self.0.join("default")) {
            Ok(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).context("reading the default login"),
        }
    }

    /// The login named `target` (an alias or a username), else the default one.
    pub fn load(&self, target: Option<&str>) -> anyhow::Result<(String, StoredLogin)> {
        let name = match target {
            Some(t) => t.to_owned(),
            None => self.default_name()?.ok_or_else(|| {
                anyhow::anyhow!("no default login: run `eca login` first, or pass --target-org")
            })?,
        };
        check_name(&name)?;
        let path = self.file(&name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // `--target-org` takes a username too: a login saved under an alias.
                return match self.by_username(&name)?.as_slice() {
                    [(alias, login)] => Ok((alias.clone(), login.clone())),
                    [] => bail!("no login named `{name}`: run `eca login --alias {name}` first"),
                    many => bail!(
                        "`{name}` is the username of several logins: pass one of their aliases ({})",
                        many.iter()
                            .map(|(alias, _)| alias.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let login = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a stored login", path.display()))?;
        Ok((name, login))
    }

    /// The stored logins of `username` (any case), by alias; files that are not logins are
    /// passed over.
    fn by_username(&self, username: &str) -> anyhow::Result<Vec<(String, StoredLogin)>> {
        let entries = match std::fs::read_dir(&self.0) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", self.0.display())),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let Some(alias) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            if let Ok(login) = serde_json::from_str::<StoredLogin>(&text)
                && login.username.eq_ignore_ascii_case(username)
            {
                found.push((alias.to_owned(), login));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found)
    }
}

/// Aliases and usernames become file names: letters, digits and `._@+-`, not starting with `.`.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name != "default"
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@+-".contains(&b));
    if !ok {
        bail!("`{name}` cannot name a login: use letters, digits and . _ @ + -");
    }
    Ok(())
}

/// Reads the environment for the config dir. The binary is the one place allowed to
/// (`clippy.toml`).
#[allow(clippy::disallowed_methods)]
fn config_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("ECA_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".eca")),
        None => bail!("set ECA_CONFIG_DIR or HOME to say where logins are stored"),
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes a file readable by its owner only, also when it existed with wider permissions:
/// whole, to a file of its own first, then renamed over the old one, so that a crash or two
/// logins at once never leave a file cut short.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let temp = path.with_extension(format!("{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = (|| -> std::io::Result<()> {
        let mut file = options.open(&temp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written.with_context(|| format!("writing {}", path.display()))
}

/// A blocking HTTP client: 4xx and 5xx are answers to read, not errors; 30 s per call.
pub fn agent() -> ureq::Agent {
    let crypto = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(crypto)
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(tls)
        .build()
        .into()
}

/// An answer: status and body text.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

pub(crate) fn read(mut response: ureq::http::Response<ureq::Body>) -> anyhow::Result<Answer> {
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .context("reading the server's answer")?;
    Ok(Answer { status, body })
}

/// `GET url` with the session as a Bearer token.
pub fn get(agent: &ureq::Agent, url: &str, session_id: &str) -> anyhow::Result<Answer> {
    let response = agent
        .get(url)
        .header("Authorization", &format!("Bearer {session_id}"))
        .header("Accept", "application/json")
        .call()
        .with_context(|| format!("GET {url}"))?;
    read(response)
}

/// `POST url` with a SOAP body.
pub fn post_soap(
    agent: &ureq::Agent,
    url: &str,
    action: &str,
    body: &str,
) -> anyhow::Result<Answer> {
    let response = agent
        .post(url)
        .header("Content-Type", "text/xml; charset=UTF-8")
        .header("SOAPAction", action)
        .send(body)
        .with_context(|| format!("POST {url}"))?;
    read(response)
}

/// The message of a REST error array (`[{"message":..,"errorCode":..}]`), or the status.
pub fn rest_error(answer: &Answer) -> String {
    #[derive(Deserialize)]
    struct RestError {
        message: String,
        #[serde(rename = "errorCode")]
        error_code: String,
    }
    match serde_json::from_str::<Vec<RestError>>(&answer.body) {
        Ok(errors) if !errors.is_empty() => {
            format!("{}: {}", errors[0].error_code, errors[0].message)
        }
        _ => format!("HTTP {}", answer.status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("admin@demo.example").is_ok());
        assert!(check_name("my-org_1").is_ok());
        for bad in ["", ".hidden", "a/b", "default", "..", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn saves_privately_and_loads_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let auth = AuthDir(dir.path().join("auth"));
        let login = StoredLogin {
            instance_url: "http://127.0.0.1:1".into(),
            username: "a@b.c".into(),
            org_id: "00D".into(),
            user_id: "005".into(),
            session_id: "00D!x".into(),
            server_url: "http://127.0.0.1:1/services/Soap/u/66.0/00D".into(),
        };
        let path = auth.save("first", &login, false).unwrap();
        auth.save("second", &login, false).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(auth.load(None).unwrap().0, "first");
        auth.save("second", &login, true).unwrap();
        assert_eq!(auth.load(None).unwrap().0, "second");
        assert!(auth.load(Some("third")).is_err());
    }
}
