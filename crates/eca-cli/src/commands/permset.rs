//! `eca permset create --name N [--label L] [--permission P]...` and
//! `eca permset assign --name N --username U`: permission sets over the sObject API
//! (`POST sobjects/PermissionSet`, `POST sobjects/PermissionSetAssignment`), names resolved to
//! ids with SOQL as `sf org assign permset` does.

use std::process::ExitCode;

use anyhow::bail;
use eca_core::domain::Permission;
use eca_metadata::suggest;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Target, soql_string};
use crate::{Context, output};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a permission set with the given permissions.
    Create(CreateArgs),
    /// Assign a permission set to a user.
    Assign(AssignArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The API name: letters, digits and single underscores, starting with a letter.
    #[arg(long)]
    name: String,
    /// The label (default: the name).
    #[arg(long)]
    label: Option<String>,
    /// A permission's API name (ExternalClientAppAdmin, ApiEnabled, ManageUsers, ...);
    /// repeat for more.
    #[arg(long = "permission", value_name = "API_NAME")]
    permissions: Vec<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    /// The permission set's API name.
    #[arg(long)]
    name: String,
    /// The user to assign it to.
    #[arg(long)]
    username: String,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Deserialize)]
struct SaveResult {
    id: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    id: String,
    name: String,
    permissions: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Assigned {
    id: String,
    permission_set: String,
    permission_set_id: String,
    username: String,
    user_id: String,
}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        Command::Create(args) => create(args, ctx),
        Command::Assign(args) => assign(args, ctx),
    }
}

/// Permission API names, validated with a "did you mean".
pub fn permissions(names: &[String]) -> anyhow::Result<Vec<Permission>> {
    let known = || Permission::ALL.iter().map(|p| p.api_name());
    names
        .iter()
        .map(|name| {
            Permission::from_api_name(name).ok_or_else(|| {
                let hint = match suggest::nearest(name, known()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!(
                        "known permissions: {}",
                        known().collect::<Vec<_>>().join(", ")
                    ),
                };
                anyhow::anyhow!("`{name}` is not a permission: {hint}")
            })
        })
        .collect()
}

fn create(args: &CreateArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let permissions = permissions(&args.permissions)?;
    let client = Client::for_target(&args.target)?;
    let mut body = serde_json::Map::new();
    body.insert("Name".into(), args.name.clone().into());
    if let Some(label) = &args.label {
        body.insert("Label".into(), label.clone().into());
    }
    for p in &permissions {
        body.insert(format!("Permissions{}", p.api_name()), true.into());
    }
    let saved: SaveResult = client.post("/sobjects/PermissionSet", &body)?;
    let created = Created {
        id: saved.id,
        name: args.name.clone(),
        permissions: permissions.iter().map(|p| p.api_name()).collect(),
    };
    if ctx.json {
        output::json(&created)?;
    } else {
        output::line(&format!(
            "Created permission set {} ({}) with {}",
            created.name,
            created.id,
            if created.permissions.is_empty() {
                "no permissions".to_owned()
            } else {
                created.permissions.join(", ")
            }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Deserialize)]
pub struct NamedRecord {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Name")]
    pub name: String,
}

/// The ids of permission sets by API name, or an error naming the missing ones.
pub fn resolve(client: &Client, names: &[String]) -> anyhow::Result<Vec<NamedRecord>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<NamedRecord> = client.query("SELECT Id, Name FROM PermissionSet")?;
    let mut found = Vec::new();
    for name in names {
        match all.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
            Some(s) => found.push(NamedRecord {
                id: s.id.clone(),
                name: s.name.clone(),
            }),
            None => {
                let hint = suggest::nearest(name, all.iter().map(|s| s.name.as_str()))
                    .map(|near| format!(": did you mean `{near}`?"))
                    .unwrap_or_default();
                bail!("there is no permission set `{name}`{hint}");
            }
        }
    }
    Ok(found)
}

/// Assigns a permission set to a user id.
pub fn assign_to(client: &Client, user_id: &str, set_id: &str) -> anyhow::Result<String> {
    let body = serde_json::json!({ "AssigneeId": user_id, "PermissionSetId": set_id });
    let saved: SaveResult = client.post("/sobjects/PermissionSetAssignment", &body)?;
    Ok(saved.id)
}

fn assign(args: &AssignArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let soql = format!(
        "SELECT Id, Name FROM PermissionSet WHERE Name = {}",
        soql_string(&args.name)
    );
    let Some(set) = client.query::<NamedRecord>(&soql)?.into_iter().next() else {
        // Resolve again over every set, for the "did you mean".
        resolve(&client, std::slice::from_ref(&args.name))?;
        bail!("there is no permission set `{}`", args.name);
    };
    let user_id = client.user_id(&args.username)?;
    let id = assign_to(&client, &user_id, &set.id)?;
    let assigned = Assigned {
        id,
        permission_set: set.name,
        permission_set_id: set.id,
        username: args.username.clone(),
        user_id,
    };
    if ctx.json {
        output::json(&assigned)?;
    } else {
        output::line(&format!(
            "Assigned permission set {} to {}",
            assigned.permission_set, assigned.username
        ));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_are_checked_with_a_suggestion() {
        let ok = permissions(&["apienabled".into(), "ExternalClientAppAdmin".into()]).unwrap();
        assert_eq!(
            ok,
            [Permission::ApiEnabled, Permission::ExternalClientAppAdmin]
        );
        let err = permissions(&["ExternalClientAppAdmn".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`ExternalClientAppAdmn` is not a permission: did you mean `ExternalClientAppAdmin`?"
        );
        let err = permissions(&["Zzz".into()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("known permissions: ExternalClientAppAdmin"),
            "{err}"
        );
    }
}
