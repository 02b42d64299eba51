//! `eca retrieve`: the Metadata API's SOAP `retrieve` + `checkRetrieveStatus` (what the
//! Salesforce CLI and jsforce use), then the retrieved Metadata API files written back into
//! the project in source format, as `sf project retrieve start` does: a component the project
//! already has is overwritten where it is, a new one goes to the default package directory.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use eca_metadata::MetadataType;
use eca_metadata::project::convert::to_source;
use eca_metadata::project::manifest::{Manifest, ManifestType};
use eca_metadata::project::{self, ZipLimits};
use serde::Serialize;

use crate::auth_file;
use crate::client::{Client, Target};
use crate::commands::deploy::project_root;
use crate::commands::login::API_VERSION;
use crate::{Context, output, table};

/// The Metadata API's namespace.
pub(crate) const METADATA_NS: &str = "http://soap.sforce.com/2006/04/metadata";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Components to retrieve, `Type:Name` or `Type` (every component of the type), e.g.
    /// `ExternalClientApplication:MyApp`. Repeatable.
    #[arg(long, short = 'm', conflicts_with = "manifest")]
    metadata: Vec<String>,
    /// Retrieve the components this package.xml names.
    #[arg(long, short = 'x')]
    manifest: Option<PathBuf>,
    /// The project to write into (default: the project of the current folder).
    #[arg(long, short = 'r')]
    output_dir: Option<PathBuf>,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Retrieved {
    id: String,
    files: Vec<String>,
    messages: Vec<String>,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let manifest = manifest_of(args)?;
    let out = match &args.output_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => project_root(Path::new("."))?,
    };
    let client = Client::for_target(&args.target)?;
    let retrieve = format!(
        "<retrieve xmlns=\"{METADATA_NS}\"><retrieveRequest><apiVersion>{API_VERSION}</apiVersion>\
         <singlePackage>true</singlePackage><unpackaged>{}</unpackaged></retrieveRequest></retrieve>",
        unpackaged(&manifest)
    );
    let answer = soap_call(&client, &retrieve)?;
    let id = element_text(&answer, "id").context("the retrieve answer has no id")?;
    let check = format!(
        "<checkRetrieveStatus xmlns=\"{METADATA_NS}\"><asyncProcessId>{id}</asyncProcessId>\
         <includeZip>true</includeZip></checkRetrieveStatus>"
    );
    let status = crate::poll::until_done(&format!("retrieve {id}"), || {
        let answer = soap_call(&client, &check)?;
        Ok((element_text(&answer, "done").as_deref() == Some("true")).then_some(answer))
    })?;
    let messages = messages(&status)?;
    let encoded = element_text(&status, "zipFile").context("the retrieve answer has no zip")?;
    let zip = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .context("the retrieved zip is not valid base64")?;
    let files = write_source(&zip, &out)?;
    if ctx.json {
        output::json(&Retrieved {
            id,
            files,
            messages,
        })?;
    } else {
        let rows: Vec<Vec<String>> = files.iter().map(|f| vec![f.clone()]).collect();
        table::print(&["FILE"], &rows);
        for m in &messages {
            output::warning(m);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The manifest to retrieve: `--manifest`, `--metadata`, or every External Client App type.
fn manifest_of(args: &Args) -> anyhow::Result<Manifest> {
    if let Some(path) = &args.manifest {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let (manifest, problems) = Manifest::parse(&bytes, path);
        if let Some(p) = problems.first() {
            bail!("{}: {}", path.display(), p.message);
        }
        return Ok(manifest);
    }
    let mut manifest = Manifest::default();
    let wanted: Vec<(String, String)> = if args.metadata.is_empty() {
        MetadataType::ALL
            .iter()
            .map(|t| (t.manifest_name().to_owned(), "*".to_owned()))
            .collect()
    } else {
        let mut out = Vec::new();
        for m in &args.metadata {
            let (ty, name) = m.split_once(':').unwrap_or((m.as_str(), "*"));
            if MetadataType::from_name(ty).is_none() {
                bail!("`{ty}` is not an External Client App metadata type");
            }
            out.push((ty.to_owned(), name.to_owned()));
        }
        out
    };
    for (ty, name) in wanted {
        match manifest.types.iter_mut().find(|t| t.name == ty) {
            Some(t) => t.members.push(name),
            None => manifest.types.push(ManifestType {
                name: ty,
                members: vec![name],
                span: Default::default(),
            }),
        }
    }
    Ok(manifest)
}

fn unpackaged(manifest: &Manifest) -> String {
    let mut out = String::new();
    for t in &manifest.types {
        out.push_str("<types>");
        for m in &t.members {
            out.push_str(&format!("<members>{}</members>", escape(m)));
        }
        out.push_str(&format!("<name>{}</name></types>", escape(&t.name)));
    }
    out.push_str(&format!("<version>{API_VERSION}</version>"));
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes the retrieved files into the project at `out`; returns the paths written.
fn write_source(zip: &[u8], out: &Path) -> anyhow::Result<Vec<String>> {
    let mut retrieved =
        project::load_zip_bytes(Path::new("retrieve.zip"), zip, &ZipLimits::default())
            .context("reading the retrieved zip")?;
    let mut written = Vec::new();
    // Components the project already has are overwritten where they are.
    if out.join("sfdx-project.json").is_file()
        && let Ok(existing) = project::load(out)
    {
        super::refuse_project_file_error(&existing)?;
        // Names are compared without regard to case, as the org and `eca validate` (ECA0016)
        // compare them: a file spelt differently is the same component, and writing the
        // retrieved one beside it would make a duplicate.
        for f in &retrieved.files {
            if let Some(old) = existing.files.iter().find(|e| {
                e.ty == f.ty
                    && e.full_name != f.full_name
                    && e.full_name.eq_ignore_ascii_case(&f.full_name)
            }) {
                bail!(
                    "the org's {} {} is {} in this project, in {}; rename the file to {} and retrieve again (nothing was written)",
                    f.ty.name(),
                    f.full_name,
                    old.full_name,
                    output::path(&old.path),
                    f.ty.source_file_name(&f.full_name)
                );
            }
        }
        let mut failed = None;
        retrieved.files.retain(|f| {
            let Some(old) = existing
                .files
                .iter()
                .find(|e| e.ty == f.ty && e.full_name == f.full_name)
            else {
                return true;
            };
            if failed.is_some() {
                return false;
            }
            let path = out.join(&old.path);
            match std::fs::write(&path, &f.bytes) {
                Ok(()) => written.push(output::path(&old.path)),
                // Never a second copy in the default package directory instead: that would be
                // a duplicate component.
                Err(e) => failed = Some(format!("{}: {e}", path.display())),
            }
            false
        });
        if let Some(why) = failed {
            bail!(
                "could not overwrite {why}; {} file(s) were written before it",
                written.len()
            );
        }
    }
    if !retrieved.files.is_empty() {
        let summary = to_source(&retrieved, out).context("writing the retrieved files")?;
        written.extend(summary.files);
    }
    written.sort();
    Ok(written)
}

fn messages(status: &str) -> anyhow::Result<Vec<String>> {
    let doc = roxmltree::Document::parse(status)?;
    Ok(doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "messages")
        .map(|m| {
            m.children()
                .find(|c| c.tag_name().name() == "problem")
                .and_then(|c| c.text())
                .unwrap_or("")
                .to_owned()
        })
        .collect())
}

/// Calls the Metadata API's SOAP endpoint with the stored session; returns the response text,
/// or the fault as an error.
pub(crate) fn soap_call(client: &Client, operation: &str) -> anyhow::Result<String> {
    let envelope = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope \
         xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Header>\
         <SessionHeader xmlns=\"{METADATA_NS}\"><sessionId>{}</sessionId></SessionHeader>\
         </soapenv:Header><soapenv:Body>{operation}</soapenv:Body></soapenv:Envelope>",
        escape(&client.login.session_id)
    );
    let url = format!(
        "{}/services/Soap/m/{API_VERSION}",
        client.login.instance_url
    );
    let answer = auth_file::post_soap(&auth_file::agent(), &url, "\"\"", &envelope)?;
    if answer.status != 200 {
        let fault = element_text(&answer.body, "faultstring")
            .unwrap_or_else(|| format!("HTTP {}", answer.status));
        if fault.contains("INVALID_SESSION_ID") {
            bail!("{fault}: the stored session no longer works; run `eca login` again");
        }
        bail!("{fault} (HTTP {} from POST {url})", answer.status);
    }
    Ok(answer.body)
}

/// The text of the first element with this local name.
pub(crate) fn element_text(xml: &str, name: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    doc.descendants()
        .find(|n| n.is_element() && n.tag_name().name() == name)
        .map(|n| n.text().unwrap_or("").to_owned())
}
