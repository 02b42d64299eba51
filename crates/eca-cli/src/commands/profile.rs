//! `eca profile list`: the org's profiles and their permissions, over SOQL
//! (`SELECT Id, Name, Permissions... FROM Profile`). Profiles are read-only on OpenECA.
//!
//! `eca profile ip-range list|add|remove`: a profile's login IP ranges, the `LoginIpRange`
//! records (`docs/users-and-orgs.md`), which the OAuth server enforces as each app's IP
//! relaxation says. Addresses are checked here first, so a typo fails before any request.

use std::collections::BTreeMap;
use std::process::ExitCode;

use eca_core::domain::Permission;
use eca_core::net::AddressRange;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Target, soql_string};
use crate::{Context, output, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the org's profiles with their permissions.
    List(ListArgs),
    /// A profile's login IP ranges: users of the profile log in only from these addresses.
    #[command(subcommand)]
    IpRange(IpRangeCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum IpRangeCommand {
    /// List login IP ranges (of one profile with --profile).
    List(RangeListArgs),
    /// Add a login IP range to a profile.
    Add(RangeAddArgs),
    /// Remove a login IP range by its id (`02w...`).
    Remove(RangeRemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct RangeListArgs {
    /// Only this profile's ranges (its name).
    #[arg(long)]
    profile: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct RangeAddArgs {
    /// The profile's name (`Standard User`).
    #[arg(long)]
    profile: String,
    /// The first address of the range (IPv4 or IPv6).
    #[arg(long)]
    start: String,
    /// The last address of the range, of the same family; the start again for one address.
    #[arg(long)]
    end: String,
    /// A note on the range (at most 255 characters).
    #[arg(long)]
    description: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct RangeRemoveArgs {
    /// The range's id, as `eca profile ip-range list` shows it.
    id: String,
    #[command(flatten)]
    target: Target,
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
    match command {
        Command::List(args) => list(args, ctx),
        Command::IpRange(IpRangeCommand::List(args)) => list_ranges(args, ctx),
        Command::IpRange(IpRangeCommand::Add(args)) => add_range(args, ctx),
        Command::IpRange(IpRangeCommand::Remove(args)) => remove_range(args, ctx),
    }
}

fn list(args: &ListArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
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

#[derive(Debug, Deserialize)]
struct IdRecord {
    #[serde(rename = "Id")]
    id: String,
}

/// The answer to a create: `{"id","success","errors"}`.
#[derive(Debug, Deserialize)]
struct SaveResult {
    id: String,
}

#[derive(Debug, Deserialize)]
struct RangeRecord {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "ProfileId")]
    profile_id: String,
    #[serde(rename = "StartAddress")]
    start: String,
    #[serde(rename = "EndAddress")]
    end: String,
    #[serde(rename = "Description")]
    description: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Range {
    id: String,
    profile: String,
    start_address: String,
    end_address: String,
    description: Option<String>,
}

/// The id of the profile named `name`, or an error listing the org's profiles.
fn profile_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let soql = format!("SELECT Id FROM Profile WHERE Name = {}", soql_string(name));
    if let Some(found) = client.query::<IdRecord>(&soql)?.into_iter().next() {
        return Ok(found.id);
    }
    let names: Vec<String> = client
        .query::<ProfileRecord>("SELECT Id, Name FROM Profile ORDER BY Name")?
        .into_iter()
        .map(|p| p.name)
        .collect();
    anyhow::bail!(
        "the org has no profile `{name}`; its profiles are: {}",
        names.join(", ")
    )
}

fn list_ranges(args: &RangeListArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let names: BTreeMap<String, String> = client
        .query::<ProfileRecord>("SELECT Id, Name FROM Profile")?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let mut soql =
        "SELECT Id, ProfileId, StartAddress, EndAddress, Description FROM LoginIpRange".to_owned();
    if let Some(profile) = &args.profile {
        soql.push_str(&format!(
            " WHERE ProfileId = {}",
            soql_string(&profile_id(&client, profile)?)
        ));
    }
    soql.push_str(" ORDER BY ProfileId, StartAddress");
    let ranges: Vec<Range> = client
        .query::<RangeRecord>(&soql)?
        .into_iter()
        .map(|r| Range {
            profile: names.get(&r.profile_id).cloned().unwrap_or(r.profile_id),
            id: r.id,
            start_address: r.start,
            end_address: r.end,
            description: r.description,
        })
        .collect();
    if ctx.json {
        output::json(&ranges)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = ranges
        .iter()
        .map(|r| {
            vec![
                r.profile.clone(),
                r.start_address.clone(),
                r.end_address.clone(),
                r.id.clone(),
                r.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::print(&["PROFILE", "START", "END", "ID", "DESCRIPTION"], &rows);
    Ok(ExitCode::SUCCESS)
}

fn add_range(args: &RangeAddArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let range = AddressRange::parse(&args.start, &args.end)
        .map_err(|e| anyhow::anyhow!("--start {} --end {}: {e}", args.start, args.end))?;
    let client = Client::for_target(&args.target)?;
    let profile = profile_id(&client, &args.profile)?;
    let mut body = serde_json::Map::new();
    body.insert("ProfileId".into(), profile.into());
    body.insert("StartAddress".into(), range.start().to_string().into());
    body.insert("EndAddress".into(), range.end().to_string().into());
    if let Some(description) = &args.description {
        body.insert("Description".into(), description.clone().into());
    }
    let saved: SaveResult = client.post("/sobjects/LoginIpRange", &body)?;
    let added = Range {
        id: saved.id,
        profile: args.profile.clone(),
        start_address: range.start().to_string(),
        end_address: range.end().to_string(),
        description: args.description.clone(),
    };
    if ctx.json {
        output::json(&added)?;
    } else {
        output::line(&format!(
            "Added login IP range {range} ({}) to profile {}",
            added.id, added.profile
        ));
    }
    Ok(ExitCode::SUCCESS)
}

fn remove_range(args: &RangeRemoveArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let id = args.id.trim();
    if !(id.starts_with("02w") && matches!(id.len(), 15 | 18)) {
        anyhow::bail!("`{id}` is not a login IP range id (15 or 18 characters starting with 02w)");
    }
    let client = Client::for_target(&args.target)?;
    client.delete(&format!("/sobjects/LoginIpRange/{id}"))?;
    if ctx.json {
        output::json(&serde_json::json!({ "id": id, "removed": true }))?;
    } else {
        output::line(&format!("Removed login IP range {id}"));
    }
    Ok(ExitCode::SUCCESS)
}
