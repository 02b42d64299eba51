//! Metadata API zips, read defensively: entry count, total size and compression ratio are
//! bounded (zip bombs), entry names may not escape the archive (`..`, absolute paths), and
//! duplicate entries are refused.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use super::{Project, ProjectError, from_mdapi_entries, manifest};

/// Bounds on what a zip may expand to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZipLimits {
    pub max_entries: usize,
    pub max_total_bytes: u64,
    pub max_entry_bytes: u64,
    /// Largest uncompressed/compressed ratio accepted for an entry larger than 1 MiB.
    pub max_ratio: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        Self {
            max_entries: 200_000,
            max_total_bytes: 1 << 30,
            max_entry_bytes: 16 << 20,
            max_ratio: 200,
        }
    }
}

fn zip_error(path: &Path, message: impl Into<String>) -> ProjectError {
    ProjectError::Zip {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Reads a Metadata API zip. The manifest may sit at the top or under one folder
/// (`unpackaged/package.xml`), as the Salesforce CLI and Workbench write them.
pub(super) fn load_zip(
    path: &Path,
    bytes: &[u8],
    limits: &ZipLimits,
) -> Result<Project, ProjectError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| zip_error(path, format!("not a valid zip archive: {e}")))?;
    // The zip crate keeps one entry per name (the last): a second `package.xml` would silently
    // replace the first that a reviewer or another tool reads. Such an archive is refused, and
    // so is one whose local headers disagree with its central directory.
    if archive.has_duplicate_names() {
        return Err(zip_error(
            path,
            "the archive names the same entry more than once",
        ));
    }
    archive.validate_header_consistency().map_err(|e| {
        zip_error(
            path,
            format!("the archive's entries disagree with its directory: {e}"),
        )
    })?;
    if archive.len() > limits.max_entries {
        return Err(zip_error(
            path,
            format!(
                "{} entries, over the limit of {}",
                archive.len(),
                limits.max_entries
            ),
        ));
    }
    let mut seen = HashSet::new();
    let mut total: u64 = 0;
    let mut total_compressed: u64 = 0;
    let mut entries = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| zip_error(path, format!("entry {index}: {e}")))?;
        let name = entry
            .name()
            .map_err(|e| zip_error(path, format!("entry {index}: {e}")))?
            .into_owned();
        let rel = safe_relative(&name).ok_or_else(|| {
            zip_error(
                path,
                format!("entry `{name}` has an unsafe path (absolute or `..`)"),
            )
        })?;
        if entry.is_dir() {
            continue;
        }
        if !seen.insert(rel.clone()) {
            return Err(zip_error(path, format!("duplicate entry `{name}`")));
        }
        let declared = entry.size();
        if declared > limits.max_entry_bytes {
            return Err(zip_error(
                path,
                format!(
                    "entry `{name}` expands to {declared} bytes, over the {}-byte limit",
                    limits.max_entry_bytes
                ),
            ));
        }
        let compressed = entry.compressed_size().max(1);
        if declared > (1 << 20) && declared / compressed > limits.max_ratio {
            return Err(zip_error(
                path,
                format!(
                    "entry `{name}` has a compression ratio of {}:1, a likely zip bomb",
                    declared / compressed
                ),
            ));
        }
        // Never trust the declared size: read at most one byte past the limit.
        let mut data = Vec::with_capacity(usize::try_from(declared.min(1 << 20)).unwrap_or(0));
        (&mut entry)
            .take(limits.max_entry_bytes + 1)
            .read_to_end(&mut data)
            .map_err(|e| zip_error(path, format!("entry `{name}`: {e}")))?;
        let len = data.len() as u64;
        if len > limits.max_entry_bytes {
            return Err(zip_error(
                path,
                format!("entry `{name}` is larger than it declares"),
            ));
        }
        total += len;
        total_compressed += compressed;
        // Many entries of 1 MiB each pass the check above, yet add up: the whole archive is
        // held to the same ratio, so a small request cannot expand to `max_total_bytes`.
        if total > (1 << 20) && total / total_compressed > limits.max_ratio {
            return Err(zip_error(
                path,
                format!(
                    "the archive has a compression ratio of {}:1, a likely zip bomb",
                    total / total_compressed
                ),
            ));
        }
        if total > limits.max_total_bytes {
            return Err(zip_error(
                path,
                format!(
                    "archive expands to more than {} bytes",
                    limits.max_total_bytes
                ),
            ));
        }
        entries.push((rel, data));
    }
    let prefix = find_root(&entries).ok_or_else(|| {
        zip_error(
            path,
            "no package.xml at the top of the archive or under one folder",
        )
    })?;
    let entries = entries
        .into_iter()
        .filter_map(|(rel, data)| rel.strip_prefix(&prefix).ok().map(|r| (r.to_owned(), data)))
        .collect();
    Ok(from_mdapi_entries(path, entries))
}

fn find_root(entries: &[(PathBuf, Vec<u8>)]) -> Option<PathBuf> {
    let manifests: Vec<&PathBuf> = entries
        .iter()
        .map(|(p, _)| p)
        .filter(|p| p.file_name().is_some_and(|n| n == manifest::PACKAGE_XML))
        .collect();
    if manifests.iter().any(|p| p.components().count() == 1) {
        return Some(PathBuf::new());
    }
    match manifests.as_slice() {
        [one] if one.components().count() == 2 => one.parent().map(Path::to_owned),
        _ => None,
    }
}

/// A zip entry name as a relative path, or `None` when it would escape the archive.
fn safe_relative(name: &str) -> Option<PathBuf> {
    let normalized = name.replace('\\', "/");
    if normalized.starts_with('/') || normalized.contains('\0') {
        return None;
    }
    let mut out = PathBuf::new();
    for part in Path::new(&normalized).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if out.as_os_str().is_empty() {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        for (name, data) in entries {
            w.start_file(*name, options).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    const PKG: &[u8] = b"<Package xmlns=\"http://soap.sforce.com/2006/04/metadata\"><version>62.0</version></Package>";

    #[test]
    fn reads_nested_root() {
        let bytes = zip_of(&[
            ("unpackaged/package.xml", PKG),
            (
                "unpackaged/externalClientApps/A.eca",
                b"<ExternalClientApplication/>",
            ),
        ]);
        let p = load_zip(Path::new("x.zip"), &bytes, &ZipLimits::default()).unwrap();
        assert_eq!(p.files.len(), 1);
        assert_eq!(p.files[0].path, PathBuf::from("externalClientApps/A.eca"));
        assert_eq!(p.api_version.major(), 62);
    }

    #[test]
    fn refuses_unsafe_archives() {
        for bad in [
            zip_of(&[("package.xml", PKG), ("../evil.eca", b"x")]),
            zip_of(&[("package.xml", PKG), ("/abs/evil.eca", b"x")]),
            zip_of(&[("externalClientApps/A.eca", b"x")]),
            b"not a zip".to_vec(),
        ] {
            assert!(load_zip(Path::new("x.zip"), &bad, &ZipLimits::default()).is_err());
        }
        let bomb = zip_of(&[("package.xml", PKG), ("big.txt", &vec![b'a'; 4 << 20])]);
        let err = load_zip(Path::new("x.zip"), &bomb, &ZipLimits::default()).unwrap_err();
        assert!(err.to_string().contains("zip bomb"), "{err}");
        // Entries of 1 MiB each pass one by one, but not all together. Found by review.
        let filler = vec![b'a'; 1 << 20];
        let names: Vec<String> = (0..4).map(|i| format!("part{i}.txt")).collect();
        let mut entries: Vec<(&str, &[u8])> = vec![("package.xml", PKG)];
        entries.extend(names.iter().map(|n| (n.as_str(), filler.as_slice())));
        let err =
            load_zip(Path::new("x.zip"), &zip_of(&entries), &ZipLimits::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("the archive has a compression ratio"),
            "{err}"
        );
    }
}
