//! `sfdx-project.json`: package directories, namespace and `sourceApiVersion`.

use std::path::Path;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};
use crate::version::ApiVersion;
use crate::xml::{LineIndex, Span};

pub const FILE_NAME: &str = "sfdx-project.json";

/// The parts of `sfdx-project.json` we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SfdxProject {
    pub package_directories: Vec<PackageDirectory>,
    pub namespace: Option<String>,
    pub source_api_version: Option<ApiVersion>,
    /// The errors that leave the package directories unknown or unsafe to write into (also in
    /// the diagnostics): JSON that does not parse, no `packageDirectories` array, an entry
    /// without a path, an entry leading outside the project. Commands that write into the
    /// project refuse while there is one: the files might go to another directory than meant.
    pub blocking: Vec<Diagnostic>,
}

/// One entry of `packageDirectories`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageDirectory {
    /// Relative to the project root, with `/` separators, no `.` or `..` parts and no trailing
    /// slash (`.` for the root itself). [`parse`] refuses paths that are absolute or lead out of
    /// the project, so that nothing reads or writes outside it through one.
    pub path: String,
    pub is_default: bool,
    /// The 2GP package built from this directory, if any. Components that cannot be packaged
    /// must be kept out of such a directory (or `.forceignore`d).
    pub package: Option<String>,
}

/// Parses `sfdx-project.json`. Returns the project (with defaults for what is missing or
/// wrong) and every problem found.
pub fn parse(text: &str, file: &Path) -> (SfdxProject, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut project = SfdxProject {
        blocking: Vec::new(),
        package_directories: Vec::new(),
        namespace: None,
        source_api_version: None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = LineIndex::new(text);
    let at = |key: &str| -> Span {
        text.find(&format!("\"{key}\""))
            .map_or(Span::new(1, 1, 1), |i| lines.span(i, key.len() + 2))
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let broken = Diagnostic::new(
                Code::ProjectFile,
                file,
                Span::new(
                    u32::try_from(e.line()).unwrap_or(1),
                    u32::try_from(e.column()).unwrap_or(1),
                    1,
                ),
                format!("{FILE_NAME} is not valid JSON: {}", strip_position(&e.to_string())),
            )
            .with_help("fix the JSON syntax; every other check assumes the default package directory `force-app`");
            project.blocking.push(broken.clone());
            diagnostics.push(broken);
            project.package_directories.push(PackageDirectory {
                path: "force-app".into(),
                is_default: true,
                package: None,
            });
            return (project, diagnostics);
        }
    };
    let Some(object) = value.as_object() else {
        let broken = Diagnostic::new(
            Code::ProjectFile,
            file,
            Span::new(1, 1, 1),
            format!("{FILE_NAME} must be a JSON object"),
        );
        project.blocking.push(broken.clone());
        diagnostics.push(broken);
        return (project, diagnostics);
    };

    match object.get("packageDirectories") {
        Some(Value::Array(entries)) if !entries.is_empty() => {
            for entry in entries {
                match entry.get("path").and_then(Value::as_str) {
                    Some(path) if !path.trim().is_empty() => {
                        let normalized = match normalize_dir(path) {
                            Ok(p) => p,
                            Err(why) => {
                                // Point at the path as written, JSON escapes included.
                                let written = serde_json::to_string(path).unwrap_or_default();
                                let span = text.find(&written).map_or_else(
                                    || at("packageDirectories"),
                                    |i| lines.span(i + 1, written.chars().count() - 2),
                                );
                                let outside = Diagnostic::new(
                                    Code::ProjectFile,
                                    file,
                                    span,
                                    format!("package directory `{path}` is outside the project: {why}"),
                                )
                                .with_help("a package directory is a folder inside the project, written relative to it, such as \"force-app\"");
                                project.blocking.push(outside.clone());
                                diagnostics.push(outside);
                                continue;
                            }
                        };
                        project.package_directories.push(PackageDirectory {
                            path: normalized,
                            is_default: entry.get("default").and_then(Value::as_bool) == Some(true),
                            package: entry
                                .get("package")
                                .and_then(Value::as_str)
                                .map(str::to_owned),
                        });
                    }
                    _ => {
                        let broken = Diagnostic::new(
                            Code::ProjectFile,
                            file,
                            at("packageDirectories"),
                            "every entry of packageDirectories needs a non-empty \"path\"",
                        )
                        .with_help("for example {\"path\": \"force-app\", \"default\": true}");
                        project.blocking.push(broken.clone());
                        diagnostics.push(broken);
                    }
                }
            }
        }
        _ => {
            let broken = Diagnostic::new(
                Code::ProjectFile,
                file,
                at("packageDirectories"),
                "packageDirectories must be a non-empty array",
            )
            .with_help(
                "add \"packageDirectories\": [{\"path\": \"force-app\", \"default\": true}]",
            );
            project.blocking.push(broken.clone());
            diagnostics.push(broken);
        }
    }

    match object.get("sourceApiVersion") {
        None => {}
        Some(Value::String(s)) => match s.parse::<ApiVersion>() {
            Ok(v) if v < ApiVersion::OLDEST => diagnostics.push(
                Diagnostic::new(
                    Code::ProjectFile,
                    file,
                    at("sourceApiVersion"),
                    format!("sourceApiVersion {v} is older than {}, the first with External Client Apps", ApiVersion::OLDEST),
                )
                .with_help(format!("use {} or later", ApiVersion::OLDEST)),
            ),
            Ok(v) => project.source_api_version = Some(v),
            Err(e) => diagnostics.push(
                Diagnostic::new(Code::ProjectFile, file, at("sourceApiVersion"), format!("sourceApiVersion: {e}"))
                    .with_help(format!("write it as a string, for example \"{}\"", ApiVersion::DEFAULT)),
            ),
        },
        Some(_) => diagnostics.push(
            Diagnostic::new(
                Code::ProjectFile,
                file,
                at("sourceApiVersion"),
                "sourceApiVersion must be a string such as \"66.0\"",
            )
            .with_help(format!("write \"sourceApiVersion\": \"{}\"", ApiVersion::DEFAULT)),
        ),
    }

    match object.get("namespace") {
        None | Some(Value::Null) => {}
        Some(Value::String(ns)) if ns.is_empty() => {}
        Some(Value::String(ns)) => {
            if is_valid_namespace(ns) {
                project.namespace = Some(ns.clone());
            } else {
                diagnostics.push(Diagnostic::new(
                    Code::ProjectFile,
                    file,
                    at("namespace"),
                    format!("namespace `{ns}` must start with a letter and hold only letters, digits and single underscores (at most 15 characters)"),
                ));
            }
        }
        Some(_) => diagnostics.push(Diagnostic::new(
            Code::ProjectFile,
            file,
            at("namespace"),
            "namespace must be a string",
        )),
    }
    (project, diagnostics)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The path with `/` separators and without `.` and `..` parts, or why it is not a folder
/// inside the project.
fn normalize_dir(path: &str) -> Result<String, &'static str> {
    let p = path.trim().replace('\\', "/");
    let bytes = p.as_bytes();
    let has_drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if p.starts_with('/') || has_drive {
        return Err("it is an absolute path");
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("`..` leads out of the project folder");
                }
            }
            name => parts.push(name),
        }
    }
    Ok(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    })
}

fn is_valid_namespace(ns: &str) -> bool {
    ns.len() <= 15
        && ns.starts_with(|c: char| c.is_ascii_alphabetic())
        && ns.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !ns.contains("__")
        && !ns.ends_with('_')
}

/// The `sfdx-project.json` that `eca project init` writes.
pub fn default_json(name: &str) -> String {
    let value = serde_json::json!({
        "packageDirectories": [{ "path": "force-app", "default": true }],
        "name": name,
        "namespace": "",
        "sfdcLoginUrl": "https://login.salesforce.com",
        "sourceApiVersion": ApiVersion::DEFAULT.to_string(),
    });
    let mut s = serde_json::to_string_pretty(&value).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_project() {
        let (p, d) = parse(
            r#"{"packageDirectories":[{"path":"./force-app/","default":true},{"path":"pkg","package":"My Pkg"}],
               "namespace":"acme","sourceApiVersion":"62.0"}"#,
            Path::new(FILE_NAME),
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.package_directories[0].path, "force-app");
        assert_eq!(p.package_directories[1].package.as_deref(), Some("My Pkg"));
        assert_eq!(p.namespace.as_deref(), Some("acme"));
        assert_eq!(p.source_api_version, Some(ApiVersion::new(62)));
    }

    #[test]
    fn reports_bad_values_with_positions() {
        let (_, d) = parse(
            "{\n  \"packageDirectories\": [],\n  \"sourceApiVersion\": 66\n}",
            Path::new(FILE_NAME),
        );
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].line, d[1].line), (2, 3));
        let (_, d) = parse("{\n  \"packageDirectories\": [\n", Path::new(FILE_NAME));
        assert_eq!(d[0].code, Code::ProjectFile);
        assert_eq!(d[0].line, 3);
    }

    /// Review found that such entries were accepted: `eca validate` walked nothing and said
    /// ok, and `eca app new` wrote outside the project.
    #[test]
    fn package_directories_outside_the_project_are_refused() {
        for bad in [
            "../shared",
            "force-app/../../elsewhere",
            "/tmp/x",
            "C:\\\\work\\\\x",
            "\\\\\\\\server\\\\share",
        ] {
            let text = format!(
                "{{\n  \"packageDirectories\": [\n    {{\"path\": \"force-app\"}},\n    {{\"path\": \"{bad}\", \"default\": true}}\n  ]\n}}"
            );
            let (p, d) = parse(&text, Path::new(FILE_NAME));
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert_eq!((d[0].code, d[0].line), (Code::ProjectFile, 4), "{bad}");
            assert!(
                d[0].message.contains("outside the project"),
                "{bad}: {}",
                d[0].message
            );
            let paths: Vec<&str> = p
                .package_directories
                .iter()
                .map(|d| d.path.as_str())
                .collect();
            assert_eq!(paths, ["force-app"], "{bad}");
        }
        let (p, d) = parse(
            r#"{"packageDirectories":[{"path":"./apps/..x/"},{"path":"."}]}"#,
            Path::new(FILE_NAME),
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(p.package_directories.len(), 2);
    }

    #[test]
    fn default_json_parses_cleanly() {
        let (p, d) = parse(&default_json("demo"), Path::new(FILE_NAME));
        assert!(d.is_empty());
        assert_eq!(p.source_api_version, Some(ApiVersion::DEFAULT));
    }
}
