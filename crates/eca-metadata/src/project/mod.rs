//! SFDX project layouts: a source-format project (`sfdx-project.json` + package directories),
//! a Metadata API folder (`package.xml` + type folders) or a zip of one. [`load`] reads any of
//! them into a [`Project`]: the component files found (honouring `.forceignore`), the manifests,
//! and the problems met while finding them.

mod classify;
pub mod convert;
pub mod forceignore;
pub mod manifest;
pub mod sfdx;
mod zipfile;

use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::MetadataType;
use crate::diagnostic::{Code, Diagnostic};
use crate::version::ApiVersion;
use crate::xml::Span;

pub use classify::{Classified, check_api_name, classify};
pub use sfdx::{PackageDirectory, SfdxProject};
pub use zipfile::ZipLimits;

/// How the files are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `force-app/main/default/<dir>/<Name>.<suffix>-meta.xml`.
    Source,
    /// `package.xml` plus `<dir>/<Name>.<suffix>`.
    MetadataApi,
}

/// One component file found in the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    pub ty: MetadataType,
    pub full_name: String,
    /// Relative to the project root, `/`-separated.
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// Index into [`SfdxProject::package_directories`] for source projects.
    pub package_dir: Option<usize>,
}

/// A manifest found in a Metadata API folder or zip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    pub path: PathBuf,
    pub kind: manifest::ManifestKind,
    pub bytes: Vec<u8>,
}

/// A project as found on disk.
#[derive(Debug, Clone)]
pub struct Project {
    /// The path given to [`load`].
    pub root: PathBuf,
    pub layout: Layout,
    pub sfdx: Option<SfdxProject>,
    /// The version fields are checked against: `sourceApiVersion`, the manifest's `<version>`,
    /// or [`ApiVersion::DEFAULT`].
    pub api_version: ApiVersion,
    pub files: Vec<ProjectFile>,
    pub manifests: Vec<ManifestFile>,
    /// Problems met while finding files (project file, misnamed files, ignore patterns).
    pub diagnostics: Vec<Diagnostic>,
    /// Text of the project-level files (`sfdx-project.json`, `.forceignore`), for showing the
    /// lines their diagnostics point at.
    pub project_sources: Vec<(PathBuf, String)>,
}

impl Project {
    /// The namespace prefix of the project, if it has one.
    pub fn namespace(&self) -> Option<&str> {
        self.sfdx.as_ref().and_then(|s| s.namespace.as_deref())
    }

    /// The first error of `sfdx-project.json` that leaves its package directories unknown or
    /// outside the project (JSON that does not parse, no `packageDirectories`, an entry without
    /// a path or leading out), if any. Commands that write into the project refuse while there
    /// is one: the files might go to another directory than meant. Other problems (a package
    /// directory not created yet, an old `sourceApiVersion`) do not stop them.
    pub fn project_file_error(&self) -> Option<&Diagnostic> {
        self.sfdx.as_ref()?.blocking.first()
    }

    /// The package directory a file belongs to.
    pub fn package_directory(&self, file: &ProjectFile) -> Option<&PackageDirectory> {
        let sfdx = self.sfdx.as_ref()?;
        file.package_dir
            .and_then(|i| sfdx.package_directories.get(i))
    }
}

/// Why a project could not be read at all (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: not an SFDX project (no sfdx-project.json), a Metadata API folder (no package.xml) or a .zip", .0.display())]
    NotAProject(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Zip { path: PathBuf, message: String },
}

/// Reads a project: a source-format directory, a Metadata API directory or a zip.
pub fn load(path: &Path) -> Result<Project, ProjectError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ProjectError::NotFound(path.to_owned()),
        _ => ProjectError::Io {
            path: path.to_owned(),
            source: e,
        },
    })?;
    if meta.is_file() {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            let bytes = std::fs::read(path).map_err(|source| ProjectError::Io {
                path: path.to_owned(),
                source,
            })?;
            return zipfile::load_zip(path, &bytes, &ZipLimits::default());
        }
        return Err(ProjectError::NotAProject(path.to_owned()));
    }
    if path.join(sfdx::FILE_NAME).is_file() {
        load_source(path)
    } else if path.join(manifest::PACKAGE_XML).is_file() {
        load_mdapi_dir(path)
    } else {
        Err(ProjectError::NotAProject(path.to_owned()))
    }
}

/// Reads a project from the bytes of a zip (a Metadata API deploy package).
pub fn load_zip_bytes(
    name: &Path,
    bytes: &[u8],
    limits: &ZipLimits,
) -> Result<Project, ProjectError> {
    zipfile::load_zip(name, bytes, limits)
}

fn read(path: &Path) -> Result<Vec<u8>, ProjectError> {
    std::fs::read(path).map_err(|source| ProjectError::Io {
        path: path.to_owned(),
        source,
    })
}

fn load_source(root: &Path) -> Result<Project, ProjectError> {
    let project_file = PathBuf::from(sfdx::FILE_NAME);
    let text = read(&root.join(sfdx::FILE_NAME))?;
    let text = String::from_utf8_lossy(&text).into_owned();
    let (mut sfdx, mut diagnostics) = sfdx::parse(&text, &project_file);
    drop_linked_outside(root, &mut sfdx, &text, &mut diagnostics);
    let ignore = forceignore::ForceIgnore::load(root, &mut diagnostics);
    let mut project_sources = vec![(project_file.clone(), text.clone())];
    if let Ok(ignore_text) = std::fs::read_to_string(root.join(forceignore::FILE_NAME)) {
        project_sources.push((PathBuf::from(forceignore::FILE_NAME), ignore_text));
    }
    let lines = crate::xml::LineIndex::new(&text);

    let mut found: Vec<(PathBuf, usize)> = Vec::new();
    for (index, dir) in sfdx.package_directories.iter().enumerate() {
        let abs = root.join(&dir.path);
        if !abs.is_dir() {
            diagnostics.push(
                Diagnostic::new(
                    Code::PackageDirectory,
                    &project_file,
                    path_span(&text, &lines, &dir.path),
                    format!("package directory `{}` does not exist", dir.path),
                )
                .with_help("create it or remove it from packageDirectories"),
            );
            continue;
        }
        walk(root, &abs, &ignore, &mut |rel| found.push((rel, index)));
    }
    found.sort();
    found.dedup_by(|a, b| a.0 == b.0);

    let results: Vec<Result<Option<ProjectFile>, Diagnostic>> = found
        .into_par_iter()
        .map(|(rel, index)| match classify(&rel, Layout::Source) {
            Classified::Component { ty, full_name } => {
                let bytes = std::fs::read(root.join(&rel)).map_err(|e| {
                    Diagnostic::new(
                        Code::Unreadable,
                        &rel,
                        Span::new(1, 1, 1),
                        format!("cannot read file: {e}"),
                    )
                })?;
                Ok(Some(ProjectFile {
                    ty,
                    full_name,
                    path: rel,
                    bytes,
                    package_dir: Some(index),
                }))
            }
            Classified::Problem(d) => Err(d),
            Classified::NotOurs => Ok(None),
        })
        .collect();
    let mut files = Vec::new();
    for r in results {
        match r {
            Ok(Some(f)) => files.push(f),
            Ok(None) => {}
            Err(d) => diagnostics.push(d),
        }
    }
    let api_version = sfdx.source_api_version.unwrap_or(ApiVersion::DEFAULT);
    Ok(Project {
        root: root.to_owned(),
        layout: Layout::Source,
        sfdx: Some(sfdx),
        api_version,
        files,
        manifests: Vec::new(),
        diagnostics,
        project_sources,
    })
}

/// Whether `rel` stays inside `root` once symbolic links are followed: `rel` has no `..` or
/// root parts, and the longest part of it that exists resolves to a path under `root`. A
/// dangling link counts as outside (writing through it would create its target).
pub fn is_inside(root: &Path, rel: &Path) -> bool {
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return false;
    }
    let Ok(root) = root.canonicalize() else {
        return false;
    };
    let mut path = root.join(rel);
    loop {
        if path.symlink_metadata().is_ok() {
            return path
                .canonicalize()
                .is_ok_and(|real| real.starts_with(&root));
        }
        if !path.pop() {
            return false;
        }
    }
}

/// Leaves out the package directories that lead outside the project through a symbolic link,
/// with an ECA0400 error each; [`sfdx::parse`] has already refused absolute paths and `..`.
pub(crate) fn drop_linked_outside(
    root: &Path,
    sfdx: &mut SfdxProject,
    text: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let lines = crate::xml::LineIndex::new(text);
    let mut outside = Vec::new();
    sfdx.package_directories.retain(|dir| {
        if is_inside(root, Path::new(&dir.path)) {
            return true;
        }
        outside.push(
            Diagnostic::new(
                Code::ProjectFile,
                sfdx::FILE_NAME,
                path_span(text, &lines, &dir.path),
                format!(
                    "package directory `{}` is outside the project: a symbolic link leads out of the project folder",
                    dir.path
                ),
            )
            .with_help("move the folder into the project, or list it in the project it belongs to"),
        );
        false
    });
    diagnostics.extend(outside.iter().cloned());
    sfdx.blocking.extend(outside);
}

/// Where a package directory's path is written in `sfdx-project.json`, or its first line.
fn path_span(text: &str, lines: &crate::xml::LineIndex<'_>, path: &str) -> Span {
    text.find(&format!("\"{path}"))
        .or_else(|| text.find(&format!("\"./{path}")))
        .map_or(Span::new(1, 1, 1), |i| lines.span(i + 1, path.len()))
}

/// Collects every file under `dir` (relative to `root`) that `.forceignore` does not exclude.
fn walk(root: &Path, dir: &Path, ignore: &forceignore::ForceIgnore, out: &mut dyn FnMut(PathBuf)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(root) else {
            continue;
        };
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        let is_dir = file_type.is_dir();
        if ignore.is_ignored(rel, is_dir) {
            continue;
        }
        if is_dir {
            walk(root, &path, ignore, out);
        } else if file_type.is_file() {
            out(rel.to_owned());
        }
    }
}

fn load_mdapi_dir(root: &Path) -> Result<Project, ProjectError> {
    let mut entries: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut rels = Vec::new();
    let no_ignore = forceignore::ForceIgnore::empty();
    walk(root, root, &no_ignore, &mut |rel| rels.push(rel));
    for rel in rels {
        let bytes = read(&root.join(&rel))?;
        entries.push((rel, bytes));
    }
    Ok(from_mdapi_entries(root, entries))
}

/// Builds a Metadata API project from (relative path, bytes) pairs.
fn from_mdapi_entries(root: &Path, entries: Vec<(PathBuf, Vec<u8>)>) -> Project {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    let mut manifests = Vec::new();
    for (rel, bytes) in entries {
        if let Some(kind) = manifest::ManifestKind::from_path(&rel) {
            manifests.push(ManifestFile {
                path: rel,
                kind,
                bytes,
            });
            continue;
        }
        match classify(&rel, Layout::MetadataApi) {
            Classified::Component { ty, full_name } => files.push(ProjectFile {
                ty,
                full_name,
                path: rel,
                bytes,
                package_dir: None,
            }),
            Classified::Problem(d) => diagnostics.push(d),
            Classified::NotOurs => {}
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    manifests.sort_by(|a, b| a.path.cmp(&b.path));
    let api_version = manifests
        .iter()
        .find(|m| m.kind == manifest::ManifestKind::Package)
        .and_then(|m| manifest::Manifest::parse(&m.bytes, &m.path).0.version)
        .unwrap_or(ApiVersion::DEFAULT);
    Project {
        root: root.to_owned(),
        layout: Layout::MetadataApi,
        sfdx: None,
        api_version,
        files,
        manifests,
        diagnostics,
        project_sources: Vec::new(),
    }
}
