//! The REST client of the commands that manage orgs and people: a stored login
//! (`--target-org`, [`auth_file`]), JSON bodies in and out, SOQL queries, and the server's
//! REST error arrays (`[{"message","errorCode"}]`) turned into errors that say what failed.

use anyhow::{Context as _, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth_file::{self, Answer, AuthDir, StoredLogin};
use crate::commands::login::API_VERSION;

/// `--target-org`, shared by every command that talks to a server.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The alias or username of a stored login (default: the default login).
    #[arg(long)]
    pub target_org: Option<String>,
}

/// A stored login and an HTTP agent.
#[derive(Debug)]
pub struct Client {
    agent: ureq::Agent,
    pub login: StoredLogin,
}

#[derive(serde::Deserialize)]
struct QueryResult<T> {
    records: Vec<T>,
}

impl Client {
    pub fn for_target(target: &Target) -> anyhow::Result<Client> {
        let (_, login) = AuthDir::from_env()?.load(target.target_org.as_deref())?;
        Ok(Client {
            agent: auth_file::agent(),
            login,
        })
    }

    /// `<instance>/services/data/v66.0<path>`.
    fn url(&self, path: &str) -> String {
        format!(
            "{}/services/data/v{API_VERSION}{path}",
            self.login.instance_url
        )
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.login.session_id)
    }

    /// The body of a 2xx answer, or the server's error.
    fn check(&self, method: &str, path: &str, answer: Answer) -> anyhow::Result<String> {
        if (200..300).contains(&answer.status) {
            return Ok(answer.body);
        }
        let error = auth_file::rest_error(&answer);
        if error.starts_with("INVALID_SESSION_ID") {
            bail!(
                "{error}: the stored session no longer works; run `eca login` again (HTTP {} from {method} {path})",
                answer.status
            );
        }
        bail!("{error} (HTTP {} from {method} {path})", answer.status)
    }

    fn parse<T: DeserializeOwned>(path: &str, body: &str) -> anyhow::Result<T> {
        serde_json::from_str(body)
            .with_context(|| format!("the server's answer to {path} is not what eca expects"))
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let answer = auth_file::get(&self.agent, &self.url(path), &self.login.session_id)?;
        Self::parse(path, &self.check("GET", path, answer)?)
    }

    /// Like [`Client::get`], but `None` when the server refuses the caller (403).
    pub fn get_unless_forbidden<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> anyhow::Result<Option<T>> {
        let answer = auth_file::get(&self.agent, &self.url(path), &self.login.session_id)?;
        if answer.status == 403 {
            return Ok(None);
        }
        Self::parse(path, &self.check("GET", path, answer)?).map(Some)
    }

    fn send(&self, method: &str, path: &str, body: &impl Serialize) -> anyhow::Result<String> {
        let url = self.url(path);
        let json = serde_json::to_string(body)?;
        let request = match method {
            "PATCH" => self.agent.patch(&url),
            _ => self.agent.post(&url),
        };
        let response = request
            .header("Authorization", &self.bearer())
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(json.as_str())
            .with_context(|| format!("{method} {url}"))?;
        self.check(method, path, auth_file::read(response)?)
    }

    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        Self::parse(path, &self.send("POST", path, body)?)
    }

    /// A POST whose answer has no body (`204`).
    pub fn post_empty(&self, path: &str, body: &impl Serialize) -> anyhow::Result<()> {
        self.send("POST", path, body).map(drop)
    }

    pub fn patch(&self, path: &str, body: &impl Serialize) -> anyhow::Result<()> {
        self.send("PATCH", path, body).map(drop)
    }

    /// A PATCH whose answer has a JSON body.
    pub fn patch_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> anyhow::Result<T> {
        Self::parse(path, &self.send("PATCH", path, body)?)
    }

    /// `DELETE`, answered `204`.
    pub fn delete(&self, path: &str) -> anyhow::Result<()> {
        let url = self.url(path);
        let response = self
            .agent
            .delete(&url)
            .header("Authorization", &self.bearer())
            .header("Accept", "application/json")
            .call()
            .with_context(|| format!("DELETE {url}"))?;
        self.check("DELETE", path, auth_file::read(response)?)
            .map(drop)
    }

    /// The records of a SOQL query.
    pub fn query<T: DeserializeOwned>(&self, soql: &str) -> anyhow::Result<Vec<T>> {
        let path = format!("/query?q={}", percent_encode(soql));
        Ok(self.get::<QueryResult<T>>(&path)?.records)
    }

    /// The id of a user of the org, by username.
    pub fn user_id(&self, username: &str) -> anyhow::Result<String> {
        let soql = format!(
            "SELECT Id FROM User WHERE Username = {}",
            soql_string(username)
        );
        match self.query::<IdRecord>(&soql)?.into_iter().next() {
            Some(r) => Ok(r.id),
            None => bail!(
                "there is no user `{username}` in the org of `{}` (or you may not see it)",
                self.login.username
            ),
        }
    }
}

#[derive(serde::Deserialize)]
struct IdRecord {
    #[serde(rename = "Id")]
    id: String,
}

/// A SOQL string literal, quoted and escaped.
pub fn soql_string(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('\'', "\\'");
    format!("'{escaped}'")
}

/// Percent-encodes a query parameter value (everything but RFC 3986 unreserved characters).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_encoding() {
        assert_eq!(soql_string("o'brien\\x"), "'o\\'brien\\\\x'");
        assert_eq!(
            percent_encode("SELECT Id FROM User WHERE Username = 'a+b@c.d'"),
            "SELECT%20Id%20FROM%20User%20WHERE%20Username%20%3D%20%27a%2Bb%40c.d%27"
        );
    }
}
