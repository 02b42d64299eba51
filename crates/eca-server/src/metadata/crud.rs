//! The Metadata API's synchronous CRUD calls for ECA types: `readMetadata` (the stored
//! canonical component, as a `Metadata` record of its type) and `deleteMetadata` (a
//! destructive deploy of the named components, each deleted or refused on its own).

use std::io::Write as _;

use eca_core::{OrgId, UserId};
use eca_deploy::DeployOptions;
use eca_metadata::project::manifest::Manifest;
use eca_metadata::{ApiVersion, MetadataType};

use super::deploy_and_wait;
use super::render::Writer;
use crate::error::{ApiError, RequestCode};
use crate::state::AppState;

/// At most this many names per call, as Salesforce's limit for CRUD calls.
const NAMES_LIMIT: usize = 10;

fn metadata_type(type_name: &str, names: &[String]) -> Result<MetadataType, ApiError> {
    if names.len() > NAMES_LIMIT {
        return Err(ApiError::request(
            RequestCode::InvalidType,
            format!("At most {NAMES_LIMIT} full names per call"),
        ));
    }
    MetadataType::from_name(type_name).ok_or_else(|| {
        ApiError::request(
            RequestCode::InvalidType,
            format!(
                "Unknown type name '{type_name}': OpenECA holds External Client App types only"
            ),
        )
    })
}

/// `readMetadataResponse`: one `records` per name found, in the order asked.
pub async fn read(
    state: &AppState,
    org: &OrgId,
    type_name: &str,
    names: &[String],
) -> Result<String, ApiError> {
    let ty = metadata_type(type_name, names)?;
    let mut w = Writer::default();
    w.raw("<readMetadataResponse><result>");
    for name in names {
        let Some(component) = state.store().component(org, ty.name(), name).await? else {
            continue;
        };
        // Push credentials never leave the server (`eca_deploy::readable_xml`).
        let readable = eca_deploy::readable_xml(ty, &component.full_name, &component.xml)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let body = element_content(&readable)
            .ok_or_else(|| ApiError::Internal(format!("stored {} {name} is not XML", ty.name())))?;
        w.raw(&format!("<records xsi:type=\"{}\">", ty.name()));
        w.raw(&format!(
            "<fullName>{}</fullName>",
            crate::soap::xml::escape(&component.full_name)
        ));
        w.raw(body);
        w.raw("</records>");
    }
    w.raw("</result></readMetadataResponse>");
    Ok(w.into_envelope())
}

/// The text between the root element's tags of a stored component.
fn element_content(xml: &str) -> Option<&str> {
    let doc = roxmltree::Document::parse(xml).ok()?;
    let root = doc.root_element();
    let first = root.first_child()?;
    let last = root.last_child()?;
    Some(&xml[first.range().start..last.range().end])
}

/// `deleteMetadataResponse`: one `DeleteResult` per name.
pub async fn delete(
    state: &AppState,
    org: &OrgId,
    user: &UserId,
    version: ApiVersion,
    type_name: &str,
    names: &[String],
) -> Result<String, ApiError> {
    let ty = metadata_type(type_name, names)?;
    let zip = destructive_zip(ty, names).map_err(|e| ApiError::Internal(e.to_string()))?;
    // Each name stands alone, as `deleteMetadata` is not all-or-nothing.
    let options = DeployOptions {
        rollback_on_error: false,
        ..DeployOptions::default()
    };
    let result = deploy_and_wait(state, org, user, version, zip, options).await?;
    let mut w = Writer::default();
    w.raw("<deleteMetadataResponse>");
    for name in names {
        let failure = result
            .details
            .component_failures
            .iter()
            .find(|m| &m.full_name == name && !m.success);
        let general = (!result.success && result.details.component_failures.is_empty())
            .then(|| result.error_message.clone().unwrap_or_default());
        w.raw("<result>");
        let problem = failure
            .map(|m| m.problem.clone().unwrap_or_default())
            .or(general);
        if let Some(problem) = &problem {
            w.raw(&format!(
                "<errors><message>{}</message><statusCode>INVALID_CROSS_REFERENCE_KEY</statusCode></errors>",
                crate::soap::xml::escape(problem)
            ));
        }
        w.raw(&format!(
            "<fullName>{}</fullName><success>{}</success></result>",
            crate::soap::xml::escape(name),
            problem.is_none()
        ));
    }
    w.raw("</deleteMetadataResponse>");
    Ok(w.into_envelope())
}

fn destructive_zip(ty: MetadataType, names: &[String]) -> Result<Vec<u8>, zip::result::ZipError> {
    let empty = Manifest::from_components(std::iter::empty(), ApiVersion::DEFAULT);
    let mut destructive =
        Manifest::from_components(names.iter().map(|n| (ty, n.as_str())), ApiVersion::DEFAULT);
    destructive.version = None;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (file, text) in [
        ("package.xml", empty.to_xml()),
        ("destructiveChanges.xml", destructive.to_xml()),
    ] {
        writer.start_file(file, options)?;
        writer.write_all(text.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}
