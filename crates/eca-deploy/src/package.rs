//! Reading a deploy zip: the limits, `package.xml` and the destructive manifests, and the
//! offline validator's report (the same checks as `eca validate`).

use std::path::Path;

use eca_metadata::ApiVersion;
use eca_metadata::project::manifest::{Manifest, ManifestKind, PACKAGE_XML};
use eca_metadata::project::{self, Project, ProjectError, ZipLimits};
use eca_metadata::validate::{self, Report};

/// What a deploy zip may expand to: Salesforce's Metadata API limits (10,000 files, 400 MB
/// uncompressed), and no file a metadata component could need over 16 MiB (the XML reader
/// refuses anything over 1 MiB anyway).
pub const DEPLOY_ZIP_LIMITS: ZipLimits = ZipLimits {
    max_entries: 10_000,
    max_total_bytes: 400 << 20,
    max_entry_bytes: 16 << 20,
    max_ratio: 200,
};

/// A readable deploy package.
#[derive(Debug)]
pub(crate) struct Package {
    pub project: Project,
    pub manifest: Manifest,
    /// `destructiveChangesPre.xml` and `destructiveChanges.xml` (both run before the
    /// components are deployed), then `destructiveChangesPost.xml`, each with its kind.
    pub destructive: Vec<(ManifestKind, Manifest)>,
    pub report: Report,
}

/// Why a zip cannot be deployed at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    pub file_name: String,
    pub problem: String,
    /// Where in the file, when known (line, column).
    pub at: Option<(u32, u32)>,
}

impl Unreadable {
    fn new(file_name: &str, problem: impl Into<String>) -> Self {
        Self {
            file_name: file_name.to_owned(),
            problem: problem.into(),
            at: None,
        }
    }
}

/// Reads and validates a deploy zip. `version` is the API version of the call, used when
/// `package.xml` names none; `now` (seconds) is for certificate expiry.
pub(crate) fn read(zip: &[u8], version: ApiVersion, now_secs: i64) -> Result<Package, Unreadable> {
    let mut project = project::load_zip_bytes(Path::new("deploy.zip"), zip, &DEPLOY_ZIP_LIMITS)
        .map_err(|e| match e {
            ProjectError::Zip { message, .. } if message.contains("no package.xml") => {
                Unreadable::new(PACKAGE_XML, "No package.xml found")
            }
            ProjectError::Zip { message, .. } => Unreadable::new("deploy.zip", message),
            other => Unreadable::new("deploy.zip", other.to_string()),
        })?;
    let mut manifest = None;
    let mut destructive = Vec::new();
    for m in &project.manifests {
        let (parsed, problems) = Manifest::parse(&m.bytes, &m.path);
        if let Some(first) = problems.first() {
            return Err(Unreadable {
                at: Some((first.line, first.column)),
                ..Unreadable::new(
                    m.kind.file_name(),
                    format!(
                        "{} (line {}, column {})",
                        first.message, first.line, first.column
                    ),
                )
            });
        }
        match m.kind {
            ManifestKind::Package => manifest = Some(parsed),
            kind => destructive.push((kind, parsed)),
        }
    }
    let Some(manifest) = manifest else {
        return Err(Unreadable::new(PACKAGE_XML, "No package.xml found"));
    };
    // Pre and plain run first, then Post (`spec/metadata.md` §5.4; the Metadata API guide).
    destructive.sort_by_key(|(kind, _)| match kind {
        ManifestKind::DestructiveChangesPre => 0,
        ManifestKind::DestructiveChanges => 1,
        _ => 2,
    });
    project.api_version = manifest.version.unwrap_or(version);
    let options = validate::Options {
        now: Some(now_secs),
        ..validate::Options::default()
    };
    let report = validate::validate(&project, &options);
    Ok(Package {
        project,
        manifest,
        destructive,
        report,
    })
}

/// Whether a destructive manifest runs after the components are deployed.
pub(crate) fn runs_after(kind: ManifestKind) -> bool {
    kind == ManifestKind::DestructiveChangesPost
}
