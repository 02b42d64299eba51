//! `eca deploy`: converts the source project (or the part of it a folder or a manifest names)
//! into a Metadata API zip, uploads it with the REST `deployRequest` API, polls until the
//! deploy is done, and prints the component results, as `sf project deploy start` does.
//! Exit status 1 when the deploy does not succeed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use eca_deploy::{DeployOptions, DeployResult};
use eca_metadata::project::convert::mdapi_zip;
use eca_metadata::project::manifest::Manifest;
use eca_metadata::project::{self, Project};
use serde::{Deserialize, Serialize};

use crate::auth_file;
use crate::client::{Client, Target};
use crate::commands::login::API_VERSION;
use crate::{Context, output, table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The folder to deploy: the project root, or a package directory (or a folder inside
    /// one) of the project around it. Defaults to the whole project of the current folder.
    #[arg(long, short = 'd', conflicts_with = "manifest")]
    source_dir: Option<PathBuf>,
    /// Deploy only the components this package.xml names (from the project of the current
    /// folder).
    #[arg(long, short = 'x')]
    manifest: Option<PathBuf>,
    /// Validate only: every check runs, nothing changes in the org.
    #[arg(long)]
    check_only: bool,
    /// Let warnings pass instead of failing their components.
    #[arg(long)]
    ignore_warnings: bool,
    #[command(flatten)]
    target: Target,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = match (&args.source_dir, &args.manifest) {
        (Some(dir), _) => source_dir_project(dir)?,
        (None, Some(manifest)) => manifest_project(manifest)?,
        (None, None) => project::load(&project_root(Path::new("."))?)?,
    };
    if project.files.is_empty() {
        bail!("there is nothing to deploy: no External Client App component was found");
    }
    let zip = mdapi_zip(&project).context("building the deploy zip")?;
    let client = Client::for_target(&args.target)?;
    let options = DeployOptions {
        check_only: args.check_only,
        ignore_warnings: args.ignore_warnings,
        ..DeployOptions::default()
    };
    let verb = if args.check_only {
        "Validating"
    } else {
        "Deploying"
    };
    if !ctx.json {
        output::eprint(&format!(
            "{verb} {} component(s) to {} ({})\n",
            project.files.len(),
            client.login.username,
            client.login.instance_url
        ));
    }
    let result = deploy_zip(&client, zip, options, !ctx.json)?;
    report(&result, ctx)
}

/// Uploads a zip, waits for the deploy to finish and returns its result (with details).
pub(crate) fn deploy_zip(
    client: &Client,
    zip: Vec<u8>,
    options: DeployOptions,
    progress: bool,
) -> anyhow::Result<DeployResult> {
    let id = submit(client, zip, options)?;
    if progress {
        // As `sf project deploy start` prints it, so a deploy can be followed up later.
        output::eprint(&format!("Deploy ID: {id}\n"));
    }
    let path = format!("/metadata/deployRequest/{id}?includeDetails=true");
    let mut last = String::new();
    crate::poll::until_done(&format!("deploy {id}"), || {
        let body: DeployRequestBody = client.get(&path)?;
        let r = body.deploy_result;
        if progress {
            let line = format!(
                "Status: {} ({}/{} components)",
                r.status.as_str(),
                r.number_components_deployed + r.number_component_errors,
                r.number_components_total
            );
            if line != last {
                output::eprint(&format!("{line}\n"));
                last = line;
            }
        }
        Ok(r.done.then_some(r))
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct EntityContent {
    deploy_options: DeployOptions,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeployRequestBody {
    id: String,
    deploy_result: DeployResult,
}

/// `POST /services/data/vXX.X/metadata/deployRequest`, multipart as the Salesforce CLI sends
/// it: part `file` (the zip) and part `entity_content` (the options as JSON).
fn submit(client: &Client, zip: Vec<u8>, options: DeployOptions) -> anyhow::Result<String> {
    let boundary = "eca-deploy-5f0c2a9e1b7d4c3f";
    let entity = serde_json::to_string(&EntityContent {
        deploy_options: options,
    })?;
    let mut body = Vec::with_capacity(zip.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"package.xml\"\r\n\
             Content-Type: application/zip\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&zip);
    body.extend_from_slice(
        format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"entity_content\"\r\n\
             Content-Type: application/json\r\n\r\n{entity}\r\n--{boundary}--\r\n"
        )
        .as_bytes(),
    );
    let url = format!(
        "{}/services/data/v{API_VERSION}/metadata/deployRequest",
        client.login.instance_url
    );
    let response = auth_file::agent()
        .post(&url)
        .header(
            "Authorization",
            &format!("Bearer {}", client.login.session_id),
        )
        .header(
            "Content-Type",
            &format!("multipart/form-data; boundary={boundary}"),
        )
        .header("Accept", "application/json")
        .send(&body[..])
        .with_context(|| format!("POST {url}"))?;
    let answer = auth_file::read(response)?;
    if answer.status != 201 && answer.status != 200 {
        let error = auth_file::rest_error(&answer);
        // As `Client::check` says it for every other call.
        let hint = if error.starts_with("INVALID_SESSION_ID") {
            ": the stored session no longer works; run `eca login` again"
        } else {
            ""
        };
        bail!("{error}{hint} (HTTP {} from POST {url})", answer.status);
    }
    let created: DeployRequestBody = serde_json::from_str(&answer.body)
        .context("the server's answer to the deploy request is not what eca expects")?;
    Ok(created.id)
}

/// Prints the result: JSON, or a table of the components; exit status 1 unless it succeeded.
pub(crate) fn report(result: &DeployResult, ctx: &Context) -> anyhow::Result<ExitCode> {
    if ctx.json {
        output::json(result)?;
    } else {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for m in &result.details.component_successes {
            let state = if m.deleted {
                "Deleted"
            } else if m.created {
                "Created"
            } else if m.changed {
                "Changed"
            } else {
                "Unchanged"
            };
            rows.push(vec![
                state.to_owned(),
                m.full_name.clone(),
                m.component_type.clone(),
                m.file_name.clone(),
                String::new(),
            ]);
        }
        for m in &result.details.component_failures {
            let kind = match m.problem_type {
                Some(eca_deploy::ProblemType::Warning) => "Warning",
                _ => "Error",
            };
            let at = match (m.line_number, m.column_number) {
                (Some(l), Some(c)) => format!(" ({l}:{c})"),
                (Some(l), None) => format!(" ({l})"),
                _ => String::new(),
            };
            rows.push(vec![
                kind.to_owned(),
                m.full_name.clone(),
                m.component_type.clone(),
                m.file_name.clone(),
                format!("{}{at}", m.problem.as_deref().unwrap_or("")),
            ]);
        }
        table::print(&["STATE", "NAME", "TYPE", "FILE", "PROBLEM"], &rows);
        if let Some(message) = &result.error_message {
            output::error(message);
        }
        output::line(&format!(
            "Deploy {}: {} ({} deployed, {} errors, {} total)",
            result.id,
            result.status.as_str(),
            result.number_components_deployed,
            result.number_component_errors,
            result.number_components_total
        ));
    }
    Ok(if result.success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The nearest folder at or above `start` with an `sfdx-project.json`.
pub(crate) fn project_root(start: &Path) -> anyhow::Result<PathBuf> {
    let abs = std::fs::canonicalize(start)
        .with_context(|| format!("{}: no such folder", start.display()))?;
    abs.ancestors()
        .find(|dir| dir.join("sfdx-project.json").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{} is not inside an SFDX project (no sfdx-project.json here or above)",
                start.display()
            )
        })
}

/// A project directory, Metadata API folder or zip as it is; otherwise the components under
/// `dir` in the project around it.
fn source_dir_project(dir: &Path) -> anyhow::Result<Project> {
    let is_zip = dir
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip || dir.join("sfdx-project.json").is_file() || dir.join("package.xml").is_file() {
        return Ok(project::load(dir)?);
    }
    let root = project_root(dir)?;
    let abs = std::fs::canonicalize(dir)?;
    let rel = abs.strip_prefix(&root).unwrap_or(&abs).to_path_buf();
    let mut project = project::load(&root)?;
    project.files.retain(|f| f.path.starts_with(&rel));
    Ok(project)
}

/// The components of the current project that a manifest names.
fn manifest_project(path: &Path) -> anyhow::Result<Project> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let (manifest, problems) = Manifest::parse(&bytes, path);
    if let Some(p) = problems.first() {
        bail!("{}: {}", path.display(), p.message);
    }
    let mut project = project::load(&project_root(Path::new("."))?)?;
    project
        .files
        .retain(|f| manifest.includes(f.ty, &f.full_name));
    if let Some(v) = manifest.version {
        project.api_version = v;
    }
    Ok(project)
}
