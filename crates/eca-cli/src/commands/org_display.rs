//! `eca org display [--target-org ALIAS]`: the stored login's org, checked against the server
//! the way `sf org display` does (`GET /services/data/vXX.X`, 200 means connected;
//! `spec/oauth-and-connect.md` §5.5), plus the identity URL for the user's name.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use super::login::API_VERSION;
use crate::auth_file::{self, AuthDir};
use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The alias or username of a stored login (default: the default login).
    #[arg(long)]
    target_org: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Display {
    alias: String,
    id: String,
    user_id: String,
    username: String,
    display_name: Option<String>,
    instance_url: String,
    api_version: &'static str,
    /// `Connected`, or why not.
    connected_status: String,
}

#[derive(Deserialize)]
struct Identity {
    display_name: String,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let (alias, login) = AuthDir::from_env()?.load(args.target_org.as_deref())?;
    let agent = auth_file::agent();
    let url = format!("{}/services/data/v{API_VERSION}", login.instance_url);
    let answer = auth_file::get(&agent, &url, &login.session_id)?;
    let (connected_status, display_name) = if answer.status == 200 {
        // Built from the instance URL the user logged in to, never taken from the answer: the
        // session goes only where it was given (a server behind a TLS proxy without its public
        // URL set names itself `http://...`).
        let identity_url = format!(
            "{}/id/{}/{}",
            login.instance_url, login.org_id, login.user_id
        );
        let identity = auth_file::get(&agent, &identity_url, &login.session_id)?;
        let name = serde_json::from_str::<Identity>(&identity.body)
            .ok()
            .map(|i| i.display_name);
        ("Connected".to_owned(), name)
    } else {
        (auth_file::rest_error(&answer), None)
    };
    let connected = connected_status == "Connected";
    let display = Display {
        alias,
        id: login.org_id,
        user_id: login.user_id,
        username: login.username,
        display_name,
        instance_url: login.instance_url,
        api_version: API_VERSION,
        connected_status,
    };
    if ctx.json {
        output::json(&display)?;
    } else {
        let rows = [
            ("Alias", display.alias.as_str()),
            ("Org Id", display.id.as_str()),
            ("Username", display.username.as_str()),
            ("User Id", display.user_id.as_str()),
            ("Name", display.display_name.as_deref().unwrap_or("")),
            ("Instance Url", display.instance_url.as_str()),
            ("Api Version", display.api_version),
            ("Connected Status", display.connected_status.as_str()),
        ];
        for (key, value) in rows {
            output::line(&format!("{key:<17} {value}"));
        }
    }
    // Unlike `sf`, a login that no longer works is a failure, so scripts can test for it.
    Ok(if connected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
