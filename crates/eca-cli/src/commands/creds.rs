//! `eca creds show|stage|rotate|delete-staged`: an app's consumer keys and secrets and the
//! staged-credential rotation of the Connect REST API (`/apps/oauth/credentials/...`,
//! `docs/connect-api.md`): stage a new key and secret, move clients to it, rotate it in (the
//! old pair stays valid 30 days as `Rotated`), then delete the old pair.
//!
//! An app with several consumers needs `--consumer`; with one, it is chosen.

use std::process::ExitCode;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Target, percent_encode};
use crate::{Context, output, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show an app's consumer keys (and secrets) and any staged credential.
    Show(ShowArgs),
    /// Stage a new key and secret beside the current ones (valid 30 days).
    Stage(OneArgs),
    /// Make the staged key and secret the primary; the old ones stay valid 30 days.
    Rotate(OneArgs),
    /// Delete the staged (or rotated-out) key and secret: they stop working at once.
    DeleteStaged(OneArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The app: developer name or `0xI` id.
    app: String,
    /// Show the secrets too (needs View Client Secret and the org setting
    /// enableClientSecretInRestApiAccess).
    #[arg(long)]
    secret: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct OneArgs {
    /// The app: developer name or `0xI` id.
    app: String,
    /// The consumer's `888` id, when the app has more than one.
    #[arg(long)]
    consumer: Option<String>,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Consumer {
    id: String,
    key: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Consumers {
    consumers: Vec<Consumer>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Staged {
    created_by: String,
    created_date: String,
    expiration_date: String,
    id: String,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    state: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StagedList {
    staged_credentials: Vec<Staged>,
}

/// What `show --json` prints per consumer.
#[derive(Debug, Serialize)]
struct Shown {
    #[serde(flatten)]
    consumer: Consumer,
    staged: Vec<Staged>,
}

#[derive(Debug, Serialize)]
struct RotateInput {
    command: &'static str,
}

/// `POST …/staged` takes no input; an empty JSON object keeps proxies happy
/// (`spec/oauth-and-connect.md` §3).
#[derive(Debug, Serialize)]
struct Empty {}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        Command::Show(args) => show(args, ctx),
        Command::Stage(args) => stage(args, ctx),
        Command::Rotate(args) => rotate(args, ctx),
        Command::DeleteStaged(args) => delete_staged(args, ctx),
    }
}

fn base(app: &str) -> String {
    format!("/apps/oauth/credentials/{}", percent_encode(app))
}

fn consumers(client: &Client, app: &str) -> anyhow::Result<Vec<Consumer>> {
    Ok(client.get::<Consumers>(&base(app))?.consumers)
}

fn staged(client: &Client, app: &str, consumer: &str) -> anyhow::Result<Vec<Staged>> {
    let path = format!("{}/{}/staged", base(app), percent_encode(consumer));
    Ok(client.get::<StagedList>(&path)?.staged_credentials)
}

/// The consumer's staged credentials; `None` when the caller may not see them (every staged
/// resource needs secret access: the org setting and View Client Secret).
fn staged_if_allowed(
    client: &Client,
    app: &str,
    consumer: &str,
) -> anyhow::Result<Option<Vec<Staged>>> {
    let path = format!("{}/{}/staged", base(app), percent_encode(consumer));
    Ok(client
        .get_unless_forbidden::<StagedList>(&path)?
        .map(|list| list.staged_credentials))
}

/// The consumer to act on: `--consumer`, or the app's only one.
fn one_consumer(client: &Client, args: &OneArgs) -> anyhow::Result<String> {
    let all = consumers(client, &args.app)?;
    if let Some(wanted) = &args.consumer {
        // The whole id (any case), or its 15-character form (the 18-character one starts with
        // it); never a shorter prefix, which could name another consumer than meant.
        let matching: Vec<&Consumer> = all
            .iter()
            .filter(|c| {
                c.id.eq_ignore_ascii_case(wanted)
                    || (wanted.len() == 15 && c.id.starts_with(wanted.as_str()))
            })
            .collect();
        return match matching.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => bail!(
                "the app {} has no consumer {wanted} (give the whole id, 15 or 18 characters: {})",
                args.app,
                all.iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            many => bail!(
                "{wanted} names {} consumers of {}: give the whole id ({})",
                many.len(),
                args.app,
                many.iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
    }
    match all.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => bail!(
            "the app {} has no OAuth consumer (no global OAuth settings)",
            args.app
        ),
        many => bail!(
            "the app {} has {} consumers: choose one with --consumer ({})",
            args.app,
            many.len(),
            many.iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn show(args: &ShowArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let mut shown = Vec::new();
    let mut hidden = false;
    for c in consumers(&client, &args.app)? {
        let consumer = if args.secret {
            client.get::<Consumer>(&format!(
                "{}/{}?part=keyandsecret",
                base(&args.app),
                percent_encode(&c.id)
            ))?
        } else {
            c
        };
        let Some(mut staged) = staged_if_allowed(&client, &args.app, &consumer.id)? else {
            if !hidden {
                output::warning(
                    "staged credentials are not listed: they need secret access (the org setting enableClientSecretInRestApiAccess and the View Client Secret permission)",
                );
                hidden = true;
            }
            shown.push(Shown {
                consumer,
                staged: Vec::new(),
            });
            continue;
        };
        // The server shows staged secrets to whoever may see secrets; they are printed only
        // when asked for, in JSON too.
        if !args.secret {
            for st in &mut staged {
                st.secret = None;
            }
        }
        shown.push(Shown { consumer, staged });
    }
    if ctx.json {
        output::json(&shown)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut rows = Vec::new();
    for s in &shown {
        let mut row = vec![
            s.consumer.id.clone(),
            "Primary".to_owned(),
            s.consumer.key.clone().unwrap_or_default(),
            String::new(),
        ];
        if args.secret {
            row.push(s.consumer.secret.clone().unwrap_or_default());
        }
        rows.push(row);
        for st in &s.staged {
            let mut row = vec![
                s.consumer.id.clone(),
                st.state.clone(),
                st.key.clone(),
                st.expiration_date.clone(),
            ];
            if args.secret {
                row.push(st.secret.clone().unwrap_or_default());
            }
            rows.push(row);
        }
    }
    let mut headers = vec!["CONSUMER", "STATE", "KEY", "EXPIRES"];
    if args.secret {
        headers.push("SECRET");
    }
    table::print(&headers, &rows);
    Ok(ExitCode::SUCCESS)
}

fn stage(args: &OneArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let consumer = one_consumer(&client, args)?;
    let path = format!("{}/{}/staged", base(&args.app), percent_encode(&consumer));
    let list: StagedList = client.post(&path, &Empty {})?;
    let Some(new) = list.staged_credentials.into_iter().next() else {
        bail!("the server staged nothing (its answer listed no credential)");
    };
    if ctx.json {
        output::json(&new)?;
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!(
        "Staged a new key and secret for {} (consumer {consumer}), valid until {}.",
        args.app, new.expiration_date
    ));
    output::line(&format!("Consumer key:    {}", new.key));
    output::line(&format!(
        "Consumer secret: {}",
        new.secret.as_deref().unwrap_or("(not shown)")
    ));
    output::line(&format!(
        "Both pairs work now. Move your clients to the new pair, then run `eca creds rotate {}`.",
        args.app
    ));
    Ok(ExitCode::SUCCESS)
}

fn rotate(args: &OneArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let consumer = one_consumer(&client, args)?;
    let Some(active) = staged(&client, &args.app, &consumer)?
        .into_iter()
        .find(|s| s.state == "Active")
    else {
        bail!(
            "the app {} has no Active staged credential to rotate in: run `eca creds stage {}` first",
            args.app,
            args.app
        );
    };
    let path = format!(
        "{}/{}/staged/{}",
        base(&args.app),
        percent_encode(&consumer),
        percent_encode(&active.id)
    );
    let mut old: Staged = client.patch_json(&path, &RotateInput { command: "rotate" })?;
    // The former primary's secret still works for 30 days: `eca creds show --secret` shows it.
    old.secret = None;
    if ctx.json {
        output::json(&old)?;
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!(
        "Rotated: {} is now the primary key of {}.",
        active.key, args.app
    ));
    output::line(&format!(
        "The old key {} keeps working until {} or until `eca creds delete-staged {}`.",
        old.key, old.expiration_date, args.app
    ));
    Ok(ExitCode::SUCCESS)
}

fn delete_staged(args: &OneArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let consumer = one_consumer(&client, args)?;
    let Some(mut found) = staged(&client, &args.app, &consumer)?.into_iter().next() else {
        bail!("the app {} has no staged or rotated credential", args.app);
    };
    found.secret = None;
    client.delete(&format!(
        "{}/{}/staged/{}",
        base(&args.app),
        percent_encode(&consumer),
        percent_encode(&found.id)
    ))?;
    if ctx.json {
        output::json(&found)?;
    } else {
        output::line(&format!(
            "Deleted the {} credential {} of {}: it no longer authenticates.",
            found.state, found.key, args.app
        ));
    }
    Ok(ExitCode::SUCCESS)
}
