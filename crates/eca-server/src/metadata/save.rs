//! The Metadata API's saving CRUD calls for ECA types: `createMetadata`, `updateMetadata` and
//! `upsertMetadata` (Metadata API Developer Guide, "CRUD-Based Calls"). The records become one
//! Metadata API zip, deployed and waited for like any deploy, so they go through the same
//! validator, org-side checks, generated values and transaction; each record then gets its
//! `SaveResult` (or `UpsertResult`) from the deploy's component messages.
//!
//! Decisions where the guide is silent for ECA types (written in `docs/metadata-api.md`):
//! - Records stand alone (`rollbackOnError` false), as the calls are not all-or-nothing
//!   without an `AllOrNoneHeader`, which is not read.
//! - Whether a component exists is checked before the deploy, outside the org's deploy lock:
//!   a component another deploy creates in between is updated by `createMetadata` rather than
//!   refused.

use std::collections::HashSet;
use std::io::Write as _;

use eca_core::{OrgId, UserId};
use eca_deploy::{DeployMessage, DeployOptions, DeployResult};
use eca_metadata::project::manifest::Manifest;
use eca_metadata::{ApiVersion, MetadataType};

use super::envelope::{MetadataRecord, SaveKind};
use super::render::Writer;
use super::{deploy_and_wait, require_deploy_permission};
use crate::error::ApiError;
use crate::soap::xml::escape;
use crate::state::AppState;

/// One record's outcome.
#[derive(Debug)]
struct Saved {
    full_name: String,
    /// `(statusCode, message)` of each error; none on success.
    errors: Vec<(&'static str, String)>,
    created: bool,
}

/// `createMetadataResponse` / `updateMetadataResponse` / `upsertMetadataResponse`.
pub async fn save(
    state: &AppState,
    org: &OrgId,
    user: &UserId,
    version: ApiVersion,
    kind: SaveKind,
    records: &[MetadataRecord],
) -> Result<String, ApiError> {
    require_deploy_permission(state, user).await?;
    let mut saved: Vec<Saved> = Vec::with_capacity(records.len());
    // The records that go into the deploy: their index in `saved`, and their type.
    let mut deployable: Vec<(usize, MetadataType)> = Vec::new();
    let mut seen = HashSet::new();
    for (i, record) in records.iter().enumerate() {
        let mut outcome = Saved {
            full_name: record.full_name.clone(),
            errors: Vec::new(),
            created: false,
        };
        match precheck(state, org, kind, record, &mut seen).await? {
            Ok(ty) => deployable.push((i, ty)),
            Err(error) => outcome.errors.push(error),
        }
        saved.push(outcome);
    }
    if !deployable.is_empty() {
        let files: Vec<_> = deployable
            .iter()
            .map(|(i, ty)| (*ty, &records[*i]))
            .collect();
        let zip = zip_of(&files, version).map_err(|e| ApiError::Internal(e.to_string()))?;
        let options = DeployOptions {
            rollback_on_error: false,
            ..DeployOptions::default()
        };
        let result = deploy_and_wait(state, org, user, version, zip, options).await?;
        for (i, ty) in deployable {
            settle(&mut saved[i], ty, &result);
        }
    }
    Ok(render(kind, &saved))
}

/// The record's type, or the error that keeps it out of the deploy.
async fn precheck(
    state: &AppState,
    org: &OrgId,
    kind: SaveKind,
    record: &MetadataRecord,
    seen: &mut HashSet<(MetadataType, String)>,
) -> Result<Result<MetadataType, (&'static str, String)>, ApiError> {
    let Some(ty) = MetadataType::from_name(&record.type_name)
        .filter(|t| *t != MetadataType::OrgSettings && t.name() == record.type_name)
    else {
        return Ok(Err((
            "INVALID_TYPE",
            format!(
                "Unknown type '{}': OpenECA saves External Client App types only",
                record.type_name
            ),
        )));
    };
    let name = &record.full_name;
    if name.starts_with('.') || name.contains(['/', '\\']) {
        return Ok(Err((
            "INVALID_FIELD",
            format!("In field: fullName - '{name}' is not a valid component name"),
        )));
    }
    if !seen.insert((ty, record.full_name.to_lowercase())) {
        return Ok(Err((
            "DUPLICATE_VALUE",
            format!(
                "{} '{}' is named more than once in this call",
                ty.name(),
                record.full_name
            ),
        )));
    }
    let exists = state
        .store()
        .component(org, ty.name(), &record.full_name)
        .await?
        .is_some();
    Ok(match (kind, exists) {
        (SaveKind::Create, true) => Err((
            "DUPLICATE_DEVELOPER_NAME",
            format!(
                "There is already a {} named '{}'; use updateMetadata or upsertMetadata",
                ty.name(),
                record.full_name
            ),
        )),
        (SaveKind::Update, false) => Err((
            "INVALID_CROSS_REFERENCE_KEY",
            format!(
                "In field: fullName - no {} named {} found",
                ty.name(),
                record.full_name
            ),
        )),
        _ => Ok(ty),
    })
}

/// Reads a deployed record's outcome from the deploy's messages.
fn settle(outcome: &mut Saved, ty: MetadataType, result: &DeployResult) {
    let mine = |m: &&DeployMessage| {
        m.component_type == ty.name() && m.full_name.eq_ignore_ascii_case(&outcome.full_name)
    };
    for failure in result
        .details
        .component_failures
        .iter()
        .filter(mine)
        .filter(|m| !m.success)
    {
        let problem = failure.problem.clone().unwrap_or_default();
        let located = match (failure.line_number, failure.column_number) {
            (Some(line), Some(column)) => format!("{problem} (line {line}, column {column})"),
            _ => problem,
        };
        outcome.errors.push(("FIELD_INTEGRITY_EXCEPTION", located));
    }
    match result.details.component_successes.iter().find(mine) {
        Some(success) if outcome.errors.is_empty() => outcome.created = success.created,
        Some(_) => {}
        None if outcome.errors.is_empty() => outcome.errors.push((
            "UNKNOWN_EXCEPTION",
            result.error_message.clone().unwrap_or_else(|| {
                "The component was not saved; see the other records' errors".to_owned()
            }),
        )),
        None => {}
    }
}

fn render(kind: SaveKind, saved: &[Saved]) -> String {
    let mut w = Writer::default();
    let response = format!("{}Response", kind.operation());
    w.raw(&format!("<{response}>"));
    for s in saved {
        w.raw("<result>");
        if kind == SaveKind::Upsert {
            w.raw(&format!("<created>{}</created>", s.created));
        }
        for (code, message) in &s.errors {
            w.raw(&format!(
                "<errors><message>{}</message><statusCode>{code}</statusCode></errors>",
                escape(message)
            ));
        }
        w.raw(&format!(
            "<fullName>{}</fullName><success>{}</success></result>",
            escape(&s.full_name),
            s.errors.is_empty()
        ));
    }
    w.raw(&format!("</{response}>"));
    w.into_envelope()
}

/// A Metadata API zip of the records, with a `package.xml` naming them.
fn zip_of(
    records: &[(MetadataType, &MetadataRecord)],
    version: ApiVersion,
) -> Result<Vec<u8>, zip::result::ZipError> {
    let manifest = Manifest::from_components(
        records.iter().map(|(ty, r)| (*ty, r.full_name.as_str())),
        version,
    );
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("package.xml", options)?;
    writer.write_all(manifest.to_xml().as_bytes())?;
    for (ty, record) in records {
        let path = format!(
            "{}/{}",
            ty.directory(),
            ty.mdapi_file_name(&record.full_name)
        );
        writer.start_file(path, options)?;
        writer.write_all(record.file.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}
