//! `eca org list`: the orgs of the server (`GET /services/data/v66.0/eca/orgs`), for admins of
//! the default org.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use crate::client::{Client, Target};
use crate::{Context, output, table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Org {
    id: String,
    name: String,
    my_domain: String,
    is_default: bool,
    instance_url: String,
    domain_url: String,
    created_date: String,
}

#[derive(Debug, Deserialize)]
struct OrgList {
    orgs: Vec<Org>,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let list: OrgList = client.get("/eca/orgs")?;
    if ctx.json {
        output::json(&list.orgs)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = list
        .orgs
        .iter()
        .map(|o| {
            vec![
                o.my_domain.clone(),
                o.name.clone(),
                o.id.clone(),
                if o.is_default { "yes" } else { "" }.to_owned(),
                o.instance_url.clone(),
            ]
        })
        .collect();
    table::print(
        &["MY DOMAIN", "NAME", "ID", "DEFAULT", "INSTANCE URL"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
