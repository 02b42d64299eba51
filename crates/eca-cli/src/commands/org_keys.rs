//! `eca org keys list|rotate [--target-org ALIAS]`: the org's SAML signing keys
//! (`GET /services/data/v66.0/eca/saml/keys`, `POST …/eca/saml/keys/rotate`). Rotating makes a
//! new key that signs from then on; the replaced one stays in the IdP metadata for the overlap
//! window the server reports. Needs the ExternalClientAppAdmin permission.

use std::process::ExitCode;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Target};
use crate::{Context, output, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the org's SAML signing keys, newest first.
    List(Args),
    /// Make a new SAML signing key; the previous one stays published for the overlap window.
    Rotate(Args),
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
}

/// The server's key list at `path` (`GET`), or after `POST {path}/rotate`; `None` once it was
/// printed as JSON (`--json`), which is all there is to do then. The OAuth keys
/// (`org_oauth_keys`) share it.
pub fn fetch<T: DeserializeOwned + Serialize>(
    args: &Args,
    rotate: bool,
    path: &str,
    ctx: &Context,
) -> anyhow::Result<Option<T>> {
    let client = Client::for_target(&args.target)?;
    let list: T = if rotate {
        client.post(&format!("{path}/rotate"), &serde_json::json!({}))?
    } else {
        client.get(path)?
    };
    if ctx.json {
        output::json(&list)?;
        return Ok(None);
    }
    Ok(Some(list))
}

/// A listed key's state: `current` (signs now), `published` (replaced, still listed for the
/// overlap) or `retired`. The OAuth keys (`org_oauth_keys`) share it.
pub fn state_of(is_current: bool, is_published: bool) -> &'static str {
    match (is_current, is_published) {
        (true, _) => "current",
        (false, true) => "published",
        (false, false) => "retired",
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    version: i64,
    created_date: String,
    is_current: bool,
    is_published: bool,
    sha256_fingerprint: String,
    certificate: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyList {
    overlap_days: i64,
    keys: Vec<Key>,
}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    let (args, rotate) = match command {
        Command::List(args) => (args, false),
        Command::Rotate(args) => (args, true),
    };
    let Some(list) = fetch::<KeyList>(args, rotate, "/eca/saml/keys", ctx)? else {
        return Ok(ExitCode::SUCCESS);
    };
    if rotate && let Some(current) = list.keys.iter().find(|k| k.is_current) {
        output::line(&format!(
            "SAML signing key {} now signs; the previous key stays in the IdP metadata for {} days.",
            current.version, list.overlap_days
        ));
    }
    let rows: Vec<Vec<String>> = list
        .keys
        .iter()
        .map(|k| {
            vec![
                k.version.to_string(),
                state_of(k.is_current, k.is_published).to_owned(),
                k.created_date.clone(),
                k.sha256_fingerprint.clone(),
            ]
        })
        .collect();
    table::print(
        &["VERSION", "STATE", "CREATED", "SHA-256 FINGERPRINT"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
