//! `eca profile list`: the org's profiles and their permissions, over SOQL
//! (`SELECT Id, Name, Permissions... FROM Profile`). Profiles are read-only on OpenECA.

use std::collections::BTreeMap;
use std::process::ExitCode;

use eca_core::domain::Permission;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Target};
use crate::{Context, output, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the org's profiles with their permissions.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Deserialize)]
struct ProfileRecord {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Name")]
    name: String,
    /// `Permissions<ApiName>` flags.
    #[serde(flatten)]
    flags: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Profile {
    id: String,
    name: String,
    permissions: Vec<&'static str>,
}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    let Command::List(args) = command;
    let client = Client::for_target(&args.target)?;
    let fields: Vec<String> = Permission::ALL
        .iter()
        .map(|p| format!("Permissions{}", p.api_name()))
        .collect();
    let soql = format!(
        "SELECT Id, Name, {} FROM Profile ORDER BY Name",
        fields.join(", ")
    );
    let profiles: Vec<Profile> = client
        .query::<ProfileRecord>(&soql)?
        .into_iter()
        .map(|r| Profile {
            permissions: Permission::ALL
                .iter()
                .filter(|p| {
                    r.flags.get(&format!("Permissions{}", p.api_name()))
                        == Some(&serde_json::Value::Bool(true))
                })
                .map(|p| p.api_name())
                .collect(),
            id: r.id,
            name: r.name,
        })
        .collect();
    if ctx.json {
        output::json(&profiles)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = profiles
        .iter()
        .map(|p| vec![p.name.clone(), p.id.clone(), p.permissions.join(", ")])
        .collect();
    table::print(&["NAME", "ID", "PERMISSIONS"], &rows);
    Ok(ExitCode::SUCCESS)
}
