//! `eca org oauth-keys list|rotate [--target-org ALIAS]`: the org's OAuth signing keys, which
//! sign ID tokens and JWT access tokens and are published at `/id/keys`
//! (`GET /services/data/v66.0/eca/oauth/keys`, `POST …/eca/oauth/keys/rotate`). Rotating makes
//! a new key that signs from then on; the replaced one stays published for the overlap the
//! server reports, so tokens it signed keep verifying. Needs the ExternalClientAppAdmin
//! permission.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use super::org_keys::{Args, fetch, state_of};
use crate::{Context, output, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the org's OAuth signing keys, newest first.
    List(Args),
    /// Make a new OAuth signing key; the previous one stays published for the overlap.
    Rotate(Args),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    kid: String,
    created_date: String,
    is_current: bool,
    is_published: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyList {
    overlap_hours: i64,
    keys: Vec<Key>,
}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    let (args, rotate) = match command {
        Command::List(args) => (args, false),
        Command::Rotate(args) => (args, true),
    };
    let Some(list) = fetch::<KeyList>(args, rotate, "/eca/oauth/keys", ctx)? else {
        return Ok(ExitCode::SUCCESS);
    };
    if rotate && let Some(current) = list.keys.iter().find(|k| k.is_current) {
        output::line(&format!(
            "OAuth signing key {} now signs; the previous key stays published at /id/keys for {} hours.",
            current.kid, list.overlap_hours
        ));
    }
    let rows: Vec<Vec<String>> = list
        .keys
        .iter()
        .map(|k| {
            vec![
                k.kid.clone(),
                state_of(k.is_current, k.is_published).to_owned(),
                k.created_date.clone(),
            ]
        })
        .collect();
    table::print(&["KID", "STATE", "CREATED"], &rows);
    Ok(ExitCode::SUCCESS)
}
