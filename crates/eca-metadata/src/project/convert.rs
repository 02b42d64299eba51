//! Conversion between source format and Metadata API format, as `sf project convert source`
//! and `sf project convert mdapi` do for these types: the file contents are unchanged; only
//! names and places differ (`X.eca-meta.xml` in `force-app/main/default/externalClientApps/`
//! versus `externalClientApps/X.eca` next to a `package.xml`).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::manifest::{Manifest, PACKAGE_XML};
use super::{Layout, Project, sfdx};

/// Where converted files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Directory(PathBuf),
    Zip(PathBuf),
}

/// What a conversion wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub components: usize,
    pub files: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Zip(String),
    #[error("the project is already in {0} format")]
    SameFormat(&'static str),
    /// The project written into has an error in `sfdx-project.json` (its line and message), or
    /// a file would be written outside it.
    #[error("{0}; nothing was written")]
    Project(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ConvertError + '_ {
    move |source| ConvertError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The files of a Metadata API package built from the project: `(relative path, bytes)`,
/// `package.xml` first.
pub fn mdapi_entries(project: &Project) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<&super::ProjectFile> = project.files.iter().collect();
    files.sort_by(|a, b| (a.ty, &a.full_name).cmp(&(b.ty, &b.full_name)));
    let manifest = Manifest::from_components(
        files.iter().map(|f| (f.ty, f.full_name.as_str())),
        project.api_version,
    );
    let mut entries = vec![(PACKAGE_XML.to_owned(), manifest.to_xml().into_bytes())];
    for f in files {
        entries.push((
            format!(
                "{}/{}",
                f.ty.directory(),
                f.ty.mdapi_file_name(&f.full_name)
            ),
            f.bytes.clone(),
        ));
    }
    entries
}

/// A Metadata API zip of the project, as `eca deploy` uploads it.
pub fn mdapi_zip(project: &Project) -> Result<Vec<u8>, ConvertError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in mdapi_entries(project) {
        writer
            .start_file(name, options)
            .map_err(|e| ConvertError::Zip(e.to_string()))?;
        writer
            .write_all(&bytes)
            .map_err(|e| ConvertError::Zip(e.to_string()))?;
    }
    let cursor = writer
        .finish()
        .map_err(|e| ConvertError::Zip(e.to_string()))?;
    Ok(cursor.into_inner())
}

/// Converts a source-format project to Metadata API format, into a folder or a zip.
pub fn to_mdapi(project: &Project, target: &Target) -> Result<Summary, ConvertError> {
    if project.layout != Layout::Source {
        return Err(ConvertError::SameFormat("Metadata API"));
    }
    let entries = mdapi_entries(project);
    let summary = Summary {
        components: entries.len() - 1,
        files: entries.iter().map(|(n, _)| n.clone()).collect(),
    };
    match target {
        Target::Directory(dir) => {
            for (name, bytes) in &entries {
                let path = dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(io(parent))?;
                }
                std::fs::write(&path, bytes).map_err(io(&path))?;
            }
        }
        Target::Zip(path) => {
            let bytes = mdapi_zip(project)?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(io(parent))?;
            }
            std::fs::write(path, bytes).map_err(io(path))?;
        }
    }
    Ok(summary)
}

/// Converts a Metadata API folder or zip into source format under `out`: into the default
/// package directory of `out`'s `sfdx-project.json` (`<dir>/main/default` when that folder
/// exists, as `sf` does), or into `force-app/main/default` with a new `sfdx-project.json`.
pub fn to_source(project: &Project, out: &Path) -> Result<Summary, ConvertError> {
    if project.layout != Layout::MetadataApi {
        return Err(ConvertError::SameFormat("source"));
    }
    std::fs::create_dir_all(out).map_err(io(out))?;
    let base = default_source_dir(out)?;
    let rels: Vec<PathBuf> = project
        .files
        .iter()
        .map(|f| {
            base.join(f.ty.directory())
                .join(f.ty.source_file_name(&f.full_name))
        })
        .collect();
    // A folder of the package directory may be a symbolic link out of the project.
    if let Some(rel) = rels.iter().find(|rel| !super::is_inside(out, rel)) {
        return Err(ConvertError::Project(format!(
            "{} leads outside the project through a symbolic link",
            rel.display()
        )));
    }
    let mut files = Vec::new();
    for (f, rel) in project.files.iter().zip(rels) {
        let path = out.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&path, &f.bytes).map_err(io(&path))?;
        files.push(crate::diagnostic::display_path(&rel));
    }
    let project_file = out.join(sfdx::FILE_NAME);
    if !project_file.exists() {
        let name = out
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("converted");
        let json = sfdx::default_json(name).replace(
            &format!("\"{}\"", crate::ApiVersion::DEFAULT),
            &format!("\"{}\"", project.api_version),
        );
        std::fs::write(&project_file, json).map_err(io(&project_file))?;
        files.push(sfdx::FILE_NAME.to_owned());
    }
    files.sort();
    Ok(Summary {
        components: project.files.len(),
        files,
    })
}

/// Where converted source files go in the project at `out`. An `sfdx-project.json` whose
/// package directories are unknown (broken JSON) or lead outside the project is refused rather
/// than passed over: the files might go to another directory than meant.
fn default_source_dir(out: &Path) -> Result<PathBuf, ConvertError> {
    let Ok(text) = std::fs::read_to_string(out.join(sfdx::FILE_NAME)) else {
        return Ok(PathBuf::from("force-app/main/default"));
    };
    let (mut project, mut problems) = sfdx::parse(&text, Path::new(sfdx::FILE_NAME));
    super::drop_linked_outside(out, &mut project, &text, &mut problems);
    if let Some(d) = project.blocking.first() {
        return Err(ConvertError::Project(format!(
            "{}:{}: {}",
            sfdx::FILE_NAME,
            d.line,
            d.message
        )));
    }
    let dirs = &project.package_directories;
    let Some(dir) = dirs.iter().find(|d| d.is_default).or(dirs.first()) else {
        return Ok(PathBuf::from("force-app/main/default"));
    };
    let base = PathBuf::from(&dir.path);
    Ok(if out.join(&base).join("main/default").is_dir() {
        base.join("main/default")
    } else {
        base
    })
}
