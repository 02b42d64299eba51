//! `eca usage list|users|tokens|revoke`: who uses an org's External Client Apps, and revoking
//! their tokens, over the Connect REST API (`GET`/`DELETE
//! /services/data/v66.0/apps/oauth/usage/...`, `docs/connect-api.md`). Apps are named by
//! developer name or `0xI` id; users by username or `005` id.

use std::process::ExitCode;

use serde::{Deserialize, Serialize};

use crate::client::{Client, Target, percent_encode};
use crate::{Context, output, table};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the apps with live tokens.
    List(ListArgs),
    /// List the users of an app, with first and last use and use count.
    Users(UsersArgs),
    /// List a user's refresh tokens of an app.
    Tokens(TokensArgs),
    /// Revoke tokens of an app: one user's, one token, or all.
    Revoke(RevokeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The page to show, from 0.
    #[arg(long, default_value_t = 0)]
    page: u32,
    /// Apps per page (1 to 1000).
    #[arg(long, default_value_t = 100)]
    page_size: u32,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct UsersArgs {
    /// The app: developer name or `0xI` id.
    app: String,
    #[arg(long, default_value_t = 0)]
    page: u32,
    #[arg(long, default_value_t = 100)]
    page_size: u32,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
pub struct TokensArgs {
    /// The app: developer name or `0xI` id.
    app: String,
    /// The user: username or `005` id.
    user: String,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Args)]
#[group(id = "what", required = true, multiple = false)]
pub struct RevokeArgs {
    /// The app: developer name or `0xI` id.
    app: String,
    /// Revoke every token of this user (username or `005` id) for the app.
    #[arg(long, group = "what")]
    user: Option<String>,
    /// Revoke one refresh token (its identifier from `eca usage tokens`) and the access
    /// tokens issued from it.
    #[arg(long, group = "what")]
    token: Option<String>,
    /// Revoke every token of the app.
    #[arg(long, group = "what")]
    all: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppUsage {
    access_token_format: String,
    description: Option<String>,
    developer_name: String,
    identifier: String,
}

#[derive(Debug, Deserialize)]
struct AppList {
    apps: Vec<AppUsage>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    app_developer_name: String,
    initial_connection_at: String,
    last_used_at: String,
    revocation_url: String,
    use_count: i64,
    user_identifier: String,
    username: String,
}

impl Entry {
    /// The last segment of the revocation URL: a token's identifier.
    fn token(&self) -> &str {
        self.revocation_url.rsplit('/').next().unwrap_or_default()
    }
}

#[derive(Debug, Deserialize)]
struct UserList {
    users: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct TokenList {
    tokens: Vec<Entry>,
}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        Command::List(args) => list(args, ctx),
        Command::Users(args) => users(args, ctx),
        Command::Tokens(args) => tokens(args, ctx),
        Command::Revoke(args) => revoke(args, ctx),
    }
}

/// A path segment, percent-encoded.
fn segment(s: &str) -> String {
    percent_encode(s)
}

/// A user id as given, or the id of a username.
fn user_id(client: &Client, user: &str) -> anyhow::Result<String> {
    let looks_like_id =
        user.starts_with("005") && matches!(user.len(), 15 | 18) && !user.contains('@');
    if looks_like_id {
        Ok(user.to_owned())
    } else {
        client.user_id(user)
    }
}

fn list(args: &ListArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let list: AppList = client.get(&format!(
        "/apps/oauth/usage?page={}&pageSize={}",
        args.page, args.page_size
    ))?;
    if ctx.json {
        output::json(&list.apps)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = list
        .apps
        .iter()
        .map(|a| {
            vec![
                a.developer_name.clone(),
                a.identifier.clone(),
                a.access_token_format.clone(),
                a.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::print(&["APP", "IDENTIFIER", "TOKENS", "DESCRIPTION"], &rows);
    Ok(ExitCode::SUCCESS)
}

fn users(args: &UsersArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let list: UserList = client.get(&format!(
        "/apps/oauth/usage/{}/users?page={}&pageSize={}",
        segment(&args.app),
        args.page,
        args.page_size
    ))?;
    if ctx.json {
        output::json(&list.users)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = list
        .users
        .iter()
        .map(|u| {
            vec![
                u.username.clone(),
                u.user_identifier.clone(),
                u.initial_connection_at.clone(),
                u.last_used_at.clone(),
                u.use_count.to_string(),
            ]
        })
        .collect();
    table::print(
        &["USERNAME", "USER ID", "FIRST USED", "LAST USED", "USES"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

fn tokens(args: &TokensArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let user = user_id(&client, &args.user)?;
    let list: TokenList = client.get(&format!(
        "/apps/oauth/usage/{}/{}/tokens",
        segment(&args.app),
        segment(&user)
    ))?;
    if ctx.json {
        output::json(&list.tokens)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = list
        .tokens
        .iter()
        .map(|t| {
            vec![
                t.token().to_owned(),
                t.initial_connection_at.clone(),
                t.last_used_at.clone(),
                t.use_count.to_string(),
            ]
        })
        .collect();
    table::print(&["TOKEN", "ISSUED", "LAST USED", "USES"], &rows);
    Ok(ExitCode::SUCCESS)
}

/// What `--json` prints after a revocation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Revoked {
    app: String,
    revoked: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

fn revoke(args: &RevokeArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    let app = segment(&args.app);
    let (result, message) = if let Some(user) = &args.user {
        let id = user_id(&client, user)?;
        client.delete(&format!("/apps/oauth/usage/{app}/{}/tokens", segment(&id)))?;
        (
            Revoked {
                app: args.app.clone(),
                revoked: "user",
                user: Some(id),
                token: None,
            },
            format!("Revoked every token of {user} for {}.", args.app),
        )
    } else if let Some(token) = &args.token {
        client.delete(&format!("/apps/oauth/usage/tokens/{}", segment(token)))?;
        (
            Revoked {
                app: args.app.clone(),
                revoked: "token",
                user: None,
                token: Some(token.clone()),
            },
            format!("Revoked the token {token} and the access tokens issued from it."),
        )
    } else {
        // `--all`: clap requires exactly one of the three.
        client.delete(&format!("/apps/oauth/usage/{app}/tokens"))?;
        (
            Revoked {
                app: args.app.clone(),
                revoked: "all",
                user: None,
                token: None,
            },
            format!("Revoked every token of {}.", args.app),
        )
    };
    if ctx.json {
        output::json(&result)?;
    } else {
        output::line(&message);
    }
    Ok(ExitCode::SUCCESS)
}
