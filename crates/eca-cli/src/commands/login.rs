//! `eca login --instance-url URL --username U [--password-stdin] [--alias A]`: a SOAP partner
//! `login` against the server (as jsforce does without an app), stored for later commands'
//! `--target-org`.

use std::io::{BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde::Serialize;

use crate::auth_file::{self, AuthDir, StoredLogin};
use crate::{Context, output};

/// The SOAP API version `eca` logs in with.
pub const API_VERSION: &str = "66.0";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The org's base URL: the server root, `http://HOST/orgs/<mydomain>` or
    /// `http://<mydomain>.localhost:PORT`.
    #[arg(long)]
    instance_url: String,
    /// The user to log in as.
    #[arg(long)]
    username: String,
    /// Read the password from the first line of standard input instead of a prompt.
    #[arg(long)]
    password_stdin: bool,
    /// The name later commands use with --target-org (default: the username).
    #[arg(long)]
    alias: Option<String>,
    /// Make this the login used when --target-org is not given (the first login always is).
    #[arg(long)]
    set_default: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LoggedIn<'a> {
    alias: &'a str,
    username: &'a str,
    org_id: &'a str,
    user_id: &'a str,
    instance_url: &'a str,
    file: String,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let name = args.alias.clone().unwrap_or_else(|| args.username.clone());
    // Before logging in: a name the login cannot be saved under must not leave a live
    // session on the server behind it.
    auth_file::check_name(&name)?;
    let instance_url = normalize_url(&args.instance_url)?;
    let password = read_password(args.password_stdin)?;
    let url = format!("{instance_url}/services/Soap/u/{API_VERSION}");
    let agent = auth_file::agent();
    let answer = auth_file::post_soap(&agent, &url, "login", &envelope(&args.username, &password))?;
    let login = parse_login(&answer.body, answer.status, &instance_url, &args.username)?;

    let path = AuthDir::from_env()?.save(&name, &login, args.set_default)?;
    let shown = LoggedIn {
        alias: &name,
        username: &login.username,
        org_id: &login.org_id,
        user_id: &login.user_id,
        instance_url: &login.instance_url,
        file: output::path(&path),
    };
    if ctx.json {
        output::json(&shown)?;
    } else {
        output::line(&format!(
            "Logged in to {} as {} (org {}); saved as `{}`",
            shown.instance_url, shown.username, shown.org_id, shown.alias
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `http(s)://...` without a trailing slash.
fn normalize_url(url: &str) -> anyhow::Result<String> {
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(['?', '#']) {
        bail!(
            "--instance-url must be an http:// or https:// URL without query, like http://127.0.0.1:8080"
        );
    }
    Ok(url.to_owned())
}

pub(crate) fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_owned();
        if password.is_empty() {
            bail!("standard input held no password");
        }
        return Ok(password);
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "standard input is not a terminal: pass --password-stdin to read the password from it"
        );
    }
    rpassword::prompt_password("Password: ").context("reading the password")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A partner `login` envelope, as jsforce writes it.
fn envelope(username: &str, password: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
         <soapenv:Body><login xmlns=\"urn:partner.soap.sforce.com\">\
         <username>{}</username><password>{}</password></login></soapenv:Body></soapenv:Envelope>",
        escape(username),
        escape(password)
    )
}

/// Reads a `loginResponse`, or the fault's `faultstring` as the error.
fn parse_login(
    body: &str,
    status: u16,
    instance_url: &str,
    username: &str,
) -> anyhow::Result<StoredLogin> {
    let doc = roxmltree::Document::parse(body).map_err(|_| {
        anyhow::anyhow!(
            "the server at {instance_url} did not answer like a Salesforce SOAP API (HTTP {status})"
        )
    })?;
    let text = |name: &str| {
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(str::to_owned)
    };
    if let Some(fault) = text("faultstring") {
        bail!("login failed: {fault}");
    }
    let field = |name: &str| {
        text(name)
            .ok_or_else(|| anyhow::anyhow!("the login answer has no <{name}> (HTTP {status})"))
    };
    Ok(StoredLogin {
        instance_url: instance_url.to_owned(),
        username: text("userName").unwrap_or_else(|| username.to_owned()),
        org_id: field("organizationId")?,
        user_id: field("userId")?,
        session_id: field("sessionId")?,
        server_url: field("serverUrl")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_escape_credentials() {
        let e = envelope("a&b@c", "p<w>\"");
        assert!(e.contains("<username>a&amp;b@c</username><password>p&lt;w&gt;&quot;</password>"));
        assert!(roxmltree::Document::parse(&e).is_ok());
    }

    #[test]
    fn faults_become_errors() {
        let fault = "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body><e:Fault>\
                     <faultcode>sf:INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: nope</faultstring>\
                     </e:Fault></e:Body></e:Envelope>";
        let err = parse_login(fault, 500, "http://x", "u").unwrap_err();
        assert_eq!(err.to_string(), "login failed: INVALID_LOGIN: nope");
        assert!(parse_login("<html>", 200, "http://x", "u").is_err());
        assert!(normalize_url("ftp://x").is_err());
        assert_eq!(
            normalize_url("http://x:1/orgs/a/").unwrap(),
            "http://x:1/orgs/a"
        );
    }
}
