//! The offline validator: everything `eca validate` checks, and the same checks a deploy runs
//! before its org-side ones.
//!
//! Each file is parsed and checked on its own, in parallel ([`check_file`]): well-formedness,
//! root element and namespace, then the schema tables (unknown elements, required and repeated
//! elements, booleans, integers, enumerations, API versions), then the rules of its type
//! (scopes, URLs, IP ranges, certificates, formulas, limits). Then the rules across files run
//! over the whole project ([`cross`]). A file that cannot be parsed never stops the others.

mod cross;
mod rules;
mod schema;
mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::MetadataType;
use crate::diagnostic::{self, Code, Diagnostic};
use crate::model::Component;
use crate::project::{Project, ProjectFile};
use crate::version::ApiVersion;
use crate::xml::{self, METADATA_NS, Span, XmlError};

pub use values::{CertificateInfo, check_certificate, parse_certificate};

/// What the validator needs from outside: the time (certificate expiry) is passed in, never
/// read from the clock here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Seconds since the Unix epoch; `None` skips the expiry checks.
    pub now: Option<i64>,
    /// Certificates expiring within this many days get a warning.
    pub expiry_warning_days: i64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            now: None,
            expiry_warning_days: 30,
        }
    }
}

/// One component that parsed, with its model and where it came from.
#[derive(Debug, Clone)]
pub struct Checked {
    pub path: PathBuf,
    pub component: Component,
    /// The parsed element tree, for positions in cross-file diagnostics.
    pub root: xml::Element,
    pub package_dir: Option<usize>,
    /// Whether the file itself had errors.
    pub has_errors: bool,
}

/// The outcome of validating a project.
#[derive(Debug, Default)]
pub struct Report {
    /// Every problem, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The components that could be read, in file order.
    pub components: Vec<Checked>,
    /// Source text of each file with diagnostics, for rendering them.
    pub sources: HashMap<PathBuf, String>,
}

impl Report {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }

    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    /// The source text of a file, for underlining.
    pub fn source_of(&self, path: &Path) -> Option<&str> {
        self.sources.get(path).map(String::as_str)
    }
}

/// The result of checking one file on its own.
#[derive(Debug)]
pub struct FileOutcome {
    pub diagnostics: Vec<Diagnostic>,
    pub checked: Option<Checked>,
    pub source: Option<String>,
}

/// Context for checking one file.
#[derive(Debug, Clone, Copy)]
pub struct FileContext<'a> {
    pub version: ApiVersion,
    pub options: &'a Options,
}

/// Validates a whole project.
pub fn validate(project: &Project, options: &Options) -> Report {
    let ctx = FileContext {
        version: project.api_version,
        options,
    };
    let outcomes: Vec<FileOutcome> = project
        .files
        .par_iter()
        .map(|f| check_project_file(f, ctx))
        .collect();

    let mut report = Report {
        diagnostics: project.diagnostics.clone(),
        ..Report::default()
    };
    for outcome in outcomes {
        let has_diagnostics = !outcome.diagnostics.is_empty();
        report.diagnostics.extend(outcome.diagnostics);
        if let Some(checked) = outcome.checked {
            if has_diagnostics && let Some(source) = outcome.source {
                report.sources.insert(checked.path.clone(), source);
            }
            report.components.push(checked);
        } else if let (true, Some(source), Some(first)) =
            (has_diagnostics, outcome.source, report.diagnostics.last())
        {
            report.sources.insert(first.file.clone(), source);
        }
    }
    let cross = cross::check(project, &report.components);
    for d in &cross {
        if !report.sources.contains_key(&d.file)
            && let Some(f) = project.files.iter().find(|f| f.path == d.file)
        {
            report.sources.insert(
                d.file.clone(),
                String::from_utf8_lossy(&f.bytes).into_owned(),
            );
        }
    }
    report.diagnostics.extend(cross);
    // Manifests in a Metadata API folder or zip.
    for m in &project.manifests {
        let (manifest, mut found) = crate::project::manifest::Manifest::parse(&m.bytes, &m.path);
        if m.kind == crate::project::manifest::ManifestKind::Package {
            found.extend(manifest_members(project, &manifest, &m.path));
        }
        if !found.is_empty() {
            report.sources.insert(
                m.path.clone(),
                String::from_utf8_lossy(&m.bytes).into_owned(),
            );
        }
        report.diagnostics.append(&mut found);
    }
    for (path, text) in &project.project_sources {
        if report.diagnostics.iter().any(|d| &d.file == path) {
            report.sources.insert(path.clone(), text.clone());
        }
    }
    diagnostic::sort(&mut report.diagnostics);
    report
}

/// In a Metadata API package, every ECA component should be listed in `package.xml` (the
/// deploy skips files it does not list) and every explicit member should have a file.
fn manifest_members(
    project: &Project,
    manifest: &crate::project::manifest::Manifest,
    path: &Path,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for t in &manifest.types {
        let Some(ty) = t.metadata_type() else {
            continue;
        };
        // Other settings (`Security`, ...) are not ours to check.
        let ours = |m: &&String| {
            *m != "*"
                && (ty != MetadataType::OrgSettings || *m == crate::catalog::ORG_SETTINGS_NAME)
        };
        for member in t.members.iter().filter(ours) {
            let present = project
                .files
                .iter()
                .any(|f| f.ty == ty && &f.full_name == member);
            if !present {
                out.push(
                    Diagnostic::new(
                        Code::ManifestMember,
                        path,
                        t.span,
                        format!(
                            "package.xml lists {} `{member}`, but there is no such file",
                            ty.name()
                        ),
                    )
                    .with_help(format!(
                        "add {}/{} or remove the member",
                        ty.directory(),
                        ty.mdapi_file_name(member)
                    )),
                );
            }
        }
    }
    for f in &project.files {
        if !manifest.includes(f.ty, &f.full_name) {
            out.push(
                Diagnostic::new(
                    Code::ManifestMember,
                    &f.path,
                    at_start(),
                    format!(
                        "{} `{}` is not listed in package.xml and will not be deployed",
                        f.ty.name(),
                        f.full_name
                    ),
                )
                .with_help(format!(
                    "add <members>{}</members> under <name>{}</name>",
                    f.full_name,
                    f.ty.manifest_name()
                )),
            );
        }
    }
    out
}

fn check_project_file(file: &ProjectFile, ctx: FileContext<'_>) -> FileOutcome {
    let mut outcome = check_file(file.ty, &file.full_name, &file.path, &file.bytes, ctx);
    if let Some(c) = outcome.checked.as_mut() {
        c.package_dir = file.package_dir;
    }
    outcome
}

/// Checks one file on its own: everything except the rules across files.
pub fn check_file(
    ty: MetadataType,
    full_name: &str,
    path: &Path,
    bytes: &[u8],
    ctx: FileContext<'_>,
) -> FileOutcome {
    let doc = match xml::parse_bytes(bytes) {
        Ok(doc) => doc,
        Err(e) => {
            let code = match e {
                XmlError::TooLarge { .. } => Code::TooLarge,
                XmlError::NotUtf8 { .. } => Code::Unreadable,
                XmlError::Doctype { .. } => Code::Doctype,
                XmlError::Malformed { .. } => Code::MalformedXml,
            };
            let help = match e {
                XmlError::Doctype { .. } => {
                    "remove the DOCTYPE; metadata files never need one, and entities are never expanded"
                }
                XmlError::TooLarge { .. } => {
                    "metadata files are small; check that this is the right file"
                }
                XmlError::NotUtf8 { .. } => {
                    "save the file as UTF-8; the other files were still checked"
                }
                XmlError::Malformed { .. } => "fix the XML; the other files were still checked",
            };
            let source = match e {
                XmlError::TooLarge { .. } => None,
                _ => Some(String::from_utf8_lossy(bytes).into_owned()),
            };
            return FileOutcome {
                diagnostics: vec![
                    Diagnostic::new(code, path, e.span(), e.to_string()).with_help(help),
                ],
                checked: None,
                source,
            };
        }
    };
    let mut diagnostics = Vec::new();
    let root = &doc.root;
    if !ty.exists_at(ctx.version) {
        diagnostics.push(
            Diagnostic::new(
                Code::TypeNotInVersion,
                path,
                root.span,
                format!("{} does not exist at API {}", ty.name(), ctx.version),
            )
            .with_help(format!(
                "it needs API {} or later; raise sourceApiVersion in sfdx-project.json",
                ty.since()
            )),
        );
    }
    if root.name != ty.name() {
        diagnostics.push(
            Diagnostic::new(
                Code::WrongRoot,
                path,
                root.span,
                format!(
                    "root element is <{}>, but `.{}` files hold <{}>",
                    root.name,
                    ty.suffix(),
                    ty.name()
                ),
            )
            .with_help(match MetadataType::from_name(&root.name) {
                Some(other) => format!(
                    "a <{}> belongs in `{}/` with the suffix `.{}`",
                    other.name(),
                    other.directory(),
                    other.suffix()
                ),
                None => format!("the root element must be <{}>", ty.name()),
            }),
        );
    } else {
        if root.namespace.as_deref() != Some(METADATA_NS) {
            let message = match &root.namespace {
                Some(ns) => format!("namespace is `{ns}`"),
                None => "root element has no namespace".to_owned(),
            };
            diagnostics.push(
                Diagnostic::new(Code::WrongNamespace, path, root.span, message)
                    .with_help(format!("write <{} xmlns=\"{METADATA_NS}\">", ty.name())),
            );
        }
        schema::check(ty, root, path, ctx.version, &mut diagnostics);
    }
    let component = Component::from_element(ty, full_name, root);
    if root.name == ty.name() {
        rules::check(&component, root, &doc.source, path, ctx, &mut diagnostics);
    }
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    // The source text is only needed to show the lines diagnostics point at.
    let source = (!diagnostics.is_empty()).then_some(doc.source);
    FileOutcome {
        diagnostics,
        checked: Some(Checked {
            path: path.to_owned(),
            component,
            root: doc.root,
            package_dir: None,
            has_errors,
        }),
        source,
    }
}

/// Validates one file in isolation (no project, no cross-file rules), for fuzzing and tools.
pub fn validate_bytes(ty: MetadataType, full_name: &str, bytes: &[u8]) -> Vec<Diagnostic> {
    let options = Options::default();
    let ctx = FileContext {
        version: ApiVersion::LATEST_KNOWN,
        options: &options,
    };
    let path = PathBuf::from(ty.source_file_name(full_name));
    check_file(ty, full_name, &path, bytes, ctx).diagnostics
}

/// A diagnostic at the start of a file.
pub(crate) fn at_start() -> Span {
    Span::new(1, 1, 1)
}
