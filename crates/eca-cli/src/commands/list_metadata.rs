//! `eca list metadata --type T`: the org's components of one type, with the Metadata API's
//! SOAP `listMetadata` (as `sf org list metadata` does).

use std::process::ExitCode;

use anyhow::bail;
use eca_metadata::MetadataType;
use serde::Serialize;

use crate::client::{Client, Target};
use crate::commands::retrieve::{METADATA_NS, soap_call};
use crate::{Context, output, table};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The metadata type, e.g. `ExternalClientApplication` or `ExtlClntAppOauthSettings`.
    #[arg(long = "type", short = 'm')]
    type_name: String,
    #[command(flatten)]
    target: Target,
}

/// One `FileProperties` of the answer.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct FileProperties {
    full_name: String,
    #[serde(rename = "type")]
    type_name: String,
    file_name: String,
    created_by_name: String,
    created_date: String,
    last_modified_by_name: String,
    last_modified_date: String,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let Some(ty) = MetadataType::from_name(&args.type_name) else {
        bail!(
            "`{}` is not an External Client App metadata type (one of: {})",
            args.type_name,
            MetadataType::ALL
                .iter()
                .map(|t| t.manifest_name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let client = Client::for_target(&args.target)?;
    let answer = soap_call(
        &client,
        &format!(
            "<listMetadata xmlns=\"{METADATA_NS}\"><queries><type>{}</type></queries></listMetadata>",
            ty.manifest_name()
        ),
    )?;
    let doc = roxmltree::Document::parse(&answer)?;
    let mut files: Vec<FileProperties> = doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name() == "result")
        .map(|r| {
            let field = |name: &str| {
                r.children()
                    .find(|c| c.is_element() && c.tag_name().name() == name)
                    .and_then(|c| c.text())
                    .unwrap_or("")
                    .to_owned()
            };
            FileProperties {
                full_name: field("fullName"),
                type_name: field("type"),
                file_name: field("fileName"),
                created_by_name: field("createdByName"),
                created_date: field("createdDate"),
                last_modified_by_name: field("lastModifiedByName"),
                last_modified_date: field("lastModifiedDate"),
            }
        })
        .collect();
    files.sort_by(|a, b| a.full_name.cmp(&b.full_name));
    if ctx.json {
        output::json(&files)?;
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            vec![
                f.full_name.clone(),
                f.file_name.clone(),
                f.last_modified_by_name.clone(),
                f.last_modified_date.clone(),
            ]
        })
        .collect();
    table::print(
        &["FULL NAME", "FILE", "LAST MODIFIED BY", "LAST MODIFIED"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}
