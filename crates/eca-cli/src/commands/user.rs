//! `eca user create|list|update|deactivate`: the org's users over the sObject API
//! (`POST`/`PATCH sobjects/User`, the set-password resource) and SOQL, usernames resolved to
//! ids with `SELECT Id FROM User WHERE Username = '...'`.

use std::process::ExitCode;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::login::read_password;
use super::permset;
use crate::client::{Client, Target};
use crate::{Context, output, table};

/// The profile of `--api-only` users.
const API_ONLY: &str = "API Only";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a user, with permission sets and a password.
    Create(Box<CreateArgs>),
    /// List the org's users.
    List(ListArgs),
    /// Change a user.
    Update(Box<UpdateArgs>),
    /// Deactivate a user: their sessions end and they can no longer log in.
    Deactivate(DeactivateArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The username, in the form of an e-mail address; unique across the server.
    #[arg(long)]
    username: String,
    #[arg(long)]
    last_name: String,
    /// The e-mail address (default: the username).
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    first_name: Option<String>,
    /// The profile's name.
    #[arg(long, default_value = "Standard User", conflicts_with = "api_only")]
    profile: String,
    /// A permission set's API name; repeat for more.
    #[arg(long = "permset", value_name = "NAME")]
    permsets: Vec<String>,
    /// Give the user the `API Only` profile.
    #[arg(long)]
    api_only: bool,
    /// The federation id (the SAML subject of single sign-on).
    #[arg(long)]
    federation_id: Option<String>,
    /// Read the user's password from the first line of standard input (default: none; the
    /// user cannot log in with a password until one is set).
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The user to change.
    username: String,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    first_name: Option<String>,
    #[arg(long)]
    last_name: Option<String>,
    /// The new profile's name.
    #[arg(long)]
    profile: Option<String>,
    #[arg(long)]
    federation_id: Option<String>,
    /// `true` to reactivate, `false` to deactivate.
    #[arg(long, value_name = "true|false")]
    active: Option<bool>,
    /// Also set a new password, read from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct DeactivateArgs {
    /// The user to deactivate.
    username: String,
    #[command(flatten)]
    target: Target,
}

/// The fields `eca` writes, with their Salesforce names.
#[derive(Debug, Default, Serialize)]
struct UserBody<'a> {
    #[serde(rename = "Username", skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(rename = "LastName", skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(rename = "FirstName", skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(rename = "Email", skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(rename = "ProfileName", skip_serializing_if = "Option::is_none")]
    profile_name: Option<&'a str>,
    #[serde(
        rename = "FederationIdentifier",
        skip_serializing_if = "Option::is_none"
    )]
    federation_id: Option<&'a str>,
    #[serde(rename = "IsActive", skip_serializing_if = "Option::is_none")]
    is_active: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct SaveResult {
    id: String,
}

#[derive(Debug, Serialize)]
struct NewPassword<'a> {
    #[serde(rename = "NewPassword")]
    new_password: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    id: String,
    username: String,
    profile: String,
    permission_sets: Vec<String>,
    password_set: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Updated {
    id: String,
    username: String,
    password_set: bool,
}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        Command::Create(args) => create(args, ctx),
        Command::List(args) => list(args, ctx),
        Command::Update(args) => update(args, ctx),
        Command::Deactivate(args) => {
            let body = UserBody {
                is_active: Some(false),
                ..UserBody::default()
            };
            change(
                &args.target,
                &args.username,
                &body,
                false,
                ctx,
                "Deactivated",
            )
        }
    }
}

/// Reads and checks a new password before anything is written, so a weak one leaves no
/// half-made user.
fn new_password(wanted: bool) -> anyhow::Result<Option<String>> {
    if !wanted {
        return Ok(None);
    }
    let password = read_password(true)?;
    if let Err(e) = eca_server::rest::users::check_password(&password) {
        bail!("{}", e.public_message());
    }
    Ok(Some(password))
}

fn create(args: &CreateArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let password = new_password(args.password_stdin)?;
    let client = Client::for_target(&args.target)?;
    let sets = permset::resolve(&client, &args.permsets)?;
    let profile = if args.api_only {
        API_ONLY
    } else {
        &args.profile
    };
    let body = UserBody {
        username: Some(&args.username),
        last_name: Some(&args.last_name),
        first_name: args.first_name.as_deref(),
        email: args.email.as_deref(),
        profile_name: Some(profile),
        federation_id: args.federation_id.as_deref(),
        is_active: None,
    };
    let saved: SaveResult = client.post("/sobjects/User", &body)?;
    for set in &sets {
        permset::assign_to(&client, &saved.id, &set.id)?;
    }
    if let Some(password) = &password {
        set_password(&client, &saved.id, password)?;
    }
    let created = Created {
        id: saved.id,
        username: args.username.clone(),
        profile: profile.to_owned(),
        permission_sets: sets.into_iter().map(|s| s.name).collect(),
        password_set: password.is_some(),
    };
    if ctx.json {
        output::json(&created)?;
    } else {
        let sets = match created.permission_sets.is_empty() {
            true => String::new(),
            false => format!(" and {}", created.permission_sets.join(", ")),
        };
        output::line(&format!(
            "Created user {} ({}) with {}{sets}",
            created.username, created.id, created.profile
        ));
        if !created.password_set {
            output::line("No password set: pass --password-stdin to `eca user update` to set one");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn set_password(client: &Client, id: &str, password: &str) -> anyhow::Result<()> {
    client.post_empty(
        &format!("/sobjects/User/{id}/password"),
        &NewPassword {
            new_password: password,
        },
    )
}

fn update(args: &UpdateArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let body = UserBody {
        username: None,
        last_name: args.last_name.as_deref(),
        first_name: args.first_name.as_deref(),
        email: args.email.as_deref(),
        profile_name: args.profile.as_deref(),
        federation_id: args.federation_id.as_deref(),
        is_active: args.active,
    };
    change(
        &args.target,
        &args.username,
        &body,
        args.password_stdin,
        ctx,
        "Updated",
    )
}

/// Patches the user `username` with `body`, and sets a password read from standard input
/// when asked.
fn change(
    target: &Target,
    username: &str,
    body: &UserBody<'_>,
    password_stdin: bool,
    ctx: &Context,
    done: &str,
) -> anyhow::Result<ExitCode> {
    let has_fields = serde_json::to_value(body)?
        .as_object()
        .is_some_and(|o| !o.is_empty());
    if !has_fields && !password_stdin {
        bail!(
            "nothing to change: give --email, --first-name, --last-name, --profile, --federation-id, --active or --password-stdin"
        );
    }
    let password = new_password(password_stdin)?;
    let client = Client::for_target(target)?;
    let id = client.user_id(username)?;
    if has_fields {
        client.patch(&format!("/sobjects/User/{id}"), body)?;
    }
    if let Some(password) = &password {
        set_password(&client, &id, password)?;
    }
    let updated = Updated {
        id,
        username: username.to_owned(),
        password_set: password.is_some(),
    };
    if ctx.json {
        output::json(&updated)?;
    } else {
        output::line(&format!("{done} user {}", updated.username));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRecord {
    id: String,
    username: String,
    name: String,
    email: String,
    profile_id: String,
    is_active: bool,
    is_frozen: bool,
    federation_identifier: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssignmentRecord {
    assignee_id: String,
    permission_set_id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UserRow {
    id: String,
    username: String,
    name: String,
    email: String,
    profile: String,
    is_active: bool,
    is_frozen: bool,
    federation_id: Option<String>,
    permission_sets: Vec<String>,
}

fn list(args: &ListArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let users: Vec<UserRecord> = client.query(
        "SELECT Id, Username, Name, Email, ProfileId, IsActive, IsFrozen, FederationIdentifier FROM User ORDER BY Username",
    )?;
    let profiles: Vec<permset::NamedRecord> = client.query("SELECT Id, Name FROM Profile")?;
    let sets: Vec<permset::NamedRecord> = client.query("SELECT Id, Name FROM PermissionSet")?;
    let assignments: Vec<AssignmentRecord> =
        client.query("SELECT AssigneeId, PermissionSetId FROM PermissionSetAssignment")?;
    let name_of = |records: &[permset::NamedRecord], id: &str| {
        records
            .iter()
            .find(|r| r.id == id)
            .map_or_else(|| id.to_owned(), |r| r.name.clone())
    };
    let rows: Vec<UserRow> = users
        .into_iter()
        .map(|u| {
            let mut permission_sets: Vec<String> = assignments
                .iter()
                .filter(|a| a.assignee_id == u.id)
                .map(|a| name_of(&sets, &a.permission_set_id))
                .collect();
            permission_sets.sort();
            UserRow {
                profile: name_of(&profiles, &u.profile_id),
                id: u.id,
                username: u.username,
                name: u.name,
                email: u.email,
                is_active: u.is_active,
                is_frozen: u.is_frozen,
                federation_id: u.federation_identifier,
                permission_sets,
            }
        })
        .collect();
    if ctx.json {
        output::json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|u| {
            let status = match (u.is_active, u.is_frozen) {
                (false, _) => "inactive",
                (true, true) => "frozen",
                (true, false) => "active",
            };
            vec![
                u.username.clone(),
                u.name.clone(),
                u.profile.clone(),
                u.permission_sets.join(", "),
                status.to_owned(),
                u.id.clone(),
            ]
        })
        .collect();
    table::print(
        &[
            "USERNAME",
            "NAME",
            "PROFILE",
            "PERMISSION SETS",
            "STATUS",
            "ID",
        ],
        &cells,
    );
    Ok(ExitCode::SUCCESS)
}
