//! One file per command (`STYLE.md` §7): each parses its arguments, makes one library call and
//! prints the result. Dispatch happens here, once, on the closed [`Command`] enum.

mod app_new;
mod cert_new;
mod creds;
mod delete_app;
mod deploy;
mod list_metadata;
pub(crate) mod login;
mod manifest;
mod org_create;
mod org_display;
mod org_keys;
mod org_list;
mod org_oauth_keys;
mod org_settings;
mod permset;
mod profile;
mod project_convert;
mod project_init;
mod retrieve;
mod serve;
mod usage;
mod user;
mod validate;

use std::process::ExitCode;

use clap::Subcommand;

use crate::Context;

/// Refuses to write into a project whose `sfdx-project.json` has an error: the package
/// directory the files would go to may be the entry left out (one outside the project).
fn refuse_project_file_error(project: &eca_metadata::project::Project) -> anyhow::Result<()> {
    if let Some(d) = project.project_file_error() {
        anyhow::bail!(
            "{}:{}: {}; fix it first (`eca validate` lists every problem), nothing was written",
            eca_metadata::project::sfdx::FILE_NAME,
            d.line,
            d.message
        );
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a source project, a Metadata API folder or a deploy zip, offline.
    Validate(validate::Args),
    /// Create SFDX projects and convert them between source and Metadata API format.
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Add External Client Apps to a project.
    #[command(subcommand)]
    App(AppCommand),
    /// Make key pairs and certificates.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Write a package.xml listing every External Client App component of a project.
    Manifest(manifest::Args),
    /// Run the OpenECA server.
    Serve(serve::Args),
    /// Log in to a server (SOAP partner login) and store the session for --target-org.
    Login(login::Args),
    /// Orgs on a server.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users of an org.
    #[command(subcommand)]
    User(user::Command),
    /// Permission sets of an org.
    #[command(subcommand)]
    Permset(permset::Command),
    /// Profiles of an org (read-only).
    #[command(subcommand)]
    Profile(profile::Command),
    /// Deploy the project's External Client Apps to an org (Metadata API).
    Deploy(deploy::Args),
    /// Retrieve External Client Apps from an org into the project, in source format.
    Retrieve(retrieve::Args),
    /// List what an org holds.
    #[command(subcommand)]
    List(ListCommand),
    /// Delete things from an org.
    #[command(subcommand)]
    Delete(DeleteCommand),
    /// OAuth usage of an org's apps, and revoking tokens (Connect REST API).
    #[command(subcommand)]
    Usage(usage::Command),
    /// Consumer keys and secrets of an app, and staged rotation (Connect REST API).
    #[command(subcommand)]
    Creds(creds::Command),
}

#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// The org's components of one metadata type.
    Metadata(list_metadata::Args),
}

#[derive(Debug, Subcommand)]
pub enum DeleteCommand {
    /// Delete an External Client App with its settings and policies (a destructive deploy).
    App(delete_app::Args),
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Show a stored login's org and whether its session still works.
    Display(org_display::Args),
    /// Create an org with its standard profiles and an admin (default org admins only).
    Create(org_create::Args),
    /// List the server's orgs (default org admins only).
    List(org_list::Args),
    /// The org's SAML signing keys: list, rotate.
    #[command(subcommand)]
    Keys(org_keys::Command),
    /// The org's OAuth signing keys (ID tokens, JWT access tokens): list, rotate.
    #[command(subcommand)]
    OauthKeys(org_oauth_keys::Command),
    /// Show or change the org's session settings (timeout, IP ranges on every request).
    Settings(org_settings::Args),
}

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a new SFDX project.
    Init(project_init::Args),
    /// Convert between source format and Metadata API format.
    #[command(subcommand)]
    Convert(project_convert::Command),
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Write the metadata files of a new External Client App.
    New(Box<app_new::Args>),
}

#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Generate an RSA key and a self-signed certificate for the JWT bearer flow.
    New(cert_new::Args),
}

/// Runs one command. Errors are printed by `main`; a `ProjectError` anywhere in the chain means
/// exit status 2.
pub fn run(command: Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        Command::Validate(args) => validate::run(&args, ctx),
        Command::Project(ProjectCommand::Init(args)) => project_init::run(&args, ctx),
        Command::Project(ProjectCommand::Convert(command)) => project_convert::run(&command, ctx),
        Command::App(AppCommand::New(args)) => app_new::run(&args, ctx),
        Command::Cert(CertCommand::New(args)) => cert_new::run(&args, ctx),
        Command::Manifest(args) => manifest::run(&args, ctx),
        Command::Serve(args) => serve::run(&args, ctx),
        Command::Login(args) => login::run(&args, ctx),
        Command::Org(OrgCommand::Display(args)) => org_display::run(&args, ctx),
        Command::Org(OrgCommand::Create(args)) => org_create::run(&args, ctx),
        Command::Org(OrgCommand::List(args)) => org_list::run(&args, ctx),
        Command::Org(OrgCommand::Keys(command)) => org_keys::run(&command, ctx),
        Command::Org(OrgCommand::OauthKeys(command)) => org_oauth_keys::run(&command, ctx),
        Command::Org(OrgCommand::Settings(args)) => org_settings::run(&args, ctx),
        Command::User(command) => user::run(&command, ctx),
        Command::Permset(command) => permset::run(&command, ctx),
        Command::Profile(command) => profile::run(&command, ctx),
        Command::Deploy(args) => deploy::run(&args, ctx),
        Command::Retrieve(args) => retrieve::run(&args, ctx),
        Command::List(ListCommand::Metadata(args)) => list_metadata::run(&args, ctx),
        Command::Delete(DeleteCommand::App(args)) => delete_app::run(&args, ctx),
        Command::Usage(command) => usage::run(&command, ctx),
        Command::Creds(command) => creds::run(&command, ctx),
    }
}
