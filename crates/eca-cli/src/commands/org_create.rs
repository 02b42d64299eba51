//! `eca org create --name N [--my-domain D] [--admin-username U] [--admin-password-stdin]`:
//! a new org on the server (`POST /services/data/v66.0/eca/orgs`), made by an admin of the
//! default org. Prints the org's id, My Domain, its two addresses, and the admin's username and
//! generated password, which the server shows only this once.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use super::login::read_password;
use crate::client::{Client, Target};
use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The org's name.
    #[arg(long)]
    name: String,
    /// The My Domain name: lower-case letters, digits and hyphens (default: from the name).
    #[arg(long)]
    my_domain: Option<String>,
    /// The admin's username (default: admin@<mydomain>.example).
    #[arg(long)]
    admin_username: Option<String>,
    /// Read the admin's password from the first line of standard input (default: generated).
    #[arg(long)]
    admin_password_stdin: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct NewOrg<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    my_domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_password: Option<String>,
}

/// The server's answer, printed as it is with `--json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedOrg {
    pub id: String,
    pub name: String,
    pub my_domain: String,
    pub instance_url: String,
    pub domain_url: String,
    pub admin_user_id: String,
    pub admin_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin_password: Option<String>,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let admin_password = match args.admin_password_stdin {
        true => Some(read_password(true)?),
        false => None,
    };
    let body = NewOrg {
        name: &args.name,
        my_domain: args.my_domain.as_deref(),
        admin_username: args.admin_username.as_deref(),
        admin_password,
    };
    let created: CreatedOrg = client.post("/eca/orgs", &body)?;
    if ctx.json {
        output::json(&created)?;
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!("Created org {} ({})", created.name, created.id));
    let password = created
        .admin_password
        .as_deref()
        .map(|p| format!("{p} (shown once: keep it now)"));
    let rows = [
        ("My Domain", created.my_domain.as_str()),
        ("Instance Url", created.instance_url.as_str()),
        ("Domain Url", created.domain_url.as_str()),
        ("Admin Username", created.admin_username.as_str()),
        (
            "Admin Password",
            password.as_deref().unwrap_or("(as given)"),
        ),
    ];
    for (key, value) in rows {
        output::line(&format!("{key:<15} {value}"));
    }
    output::line(&format!(
        "Log in with: eca login --instance-url {} --username {}",
        created.instance_url, created.admin_username
    ));
    Ok(ExitCode::SUCCESS)
}
