//! `eca org settings [--session-timeout MINUTES] [--enforce-ip-ranges-every-request BOOL]
//! [--target-org ALIAS]`: shows the org's session settings
//! (`GET /services/data/v66.0/eca/session-settings`), or changes the ones given (`PATCH`,
//! which needs Manage Users) and shows the result.

use std::process::ExitCode;

use eca_core::domain::Org;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Target};
use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Minutes an idle session stays valid: 15, 30, 60, 120, 240, 480, 720 or 1440.
    #[arg(long, value_name = "MINUTES", value_parser = timeout)]
    session_timeout: Option<i64>,
    /// Check the users' login IP ranges on every request, not only at login and token issue.
    #[arg(long, value_name = "BOOL")]
    enforce_ip_ranges_every_request: Option<bool>,
    #[command(flatten)]
    target: Target,
}

/// Checked here as the server checks it, so a wrong value is refused before anything is sent.
fn timeout(value: &str) -> Result<i64, String> {
    let minutes = value
        .parse::<i64>()
        .map_err(|_| format!("`{value}` is not a number of minutes"))?;
    Org::check_session_timeout(minutes)
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    #[serde(skip_serializing_if = "Option::is_none")]
    session_timeout_minutes: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enforce_ip_ranges_every_request: Option<bool>,
}

const PATH: &str = "/eca/session-settings";

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let change = Settings {
        session_timeout_minutes: args.session_timeout,
        enforce_ip_ranges_every_request: args.enforce_ip_ranges_every_request,
    };
    let changing = change.session_timeout_minutes.is_some()
        || change.enforce_ip_ranges_every_request.is_some();
    let settings: Settings = if changing {
        client.patch_json(PATH, &change)?
    } else {
        client.get(PATH)?
    };
    if ctx.json {
        output::json(&settings)?;
        return Ok(ExitCode::SUCCESS);
    }
    let show = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
    let rows = [
        (
            "Session Timeout",
            show(
                settings
                    .session_timeout_minutes
                    .map(|m| format!("{m} minutes")),
            ),
        ),
        (
            "Enforce Login IP Ranges On Every Request",
            show(
                settings
                    .enforce_ip_ranges_every_request
                    .map(|b| b.to_string()),
            ),
        ),
    ];
    for (key, value) in rows {
        output::line(&format!("{key:<40} {value}"));
    }
    Ok(ExitCode::SUCCESS)
}
