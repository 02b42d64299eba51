//! The validator, tested from data (`STYLE.md`, "Tests are data-driven"):
//!
//! - `tests/data/rules/<code>-<name>/` holds one rule's `fail` and `pass` projects and the
//!   diagnostics the `fail` project must produce (`expected.txt`); the `pass` project, the same
//!   project with the problem fixed, must produce none. `tests/data/rules/README.md` describes
//!   the folder format.
//! - Every diagnostic code has a rules folder, and `docs/validation.md` lists every code.
//! - The human and JSON renderings of one project with many problems are snapshot-tested.
//! - The real Salesforce examples of `spec/metadata.md` §11 (`tests/data/spec-examples/`)
//!   validate cleanly, except where the example really has a problem.
//!
//! Time is never read from the clock: every project is validated at [`NOW`] unless its rules
//! folder says otherwise.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use eca_metadata::diagnostic::{Code, Diagnostic, Severity, display_path, render_human};
use eca_metadata::project::{self, Classified, Layout, Project};
use eca_metadata::validate::{self, Options, Report};
use eca_metadata::{MetadataType, xml};

/// 2026-11-26T00:00:00Z, the time every project is validated at unless a rules folder's
/// `now.txt` says otherwise.
const NOW: i64 = 1_795_651_200;

/// Certificates expiring within this many days get ECA0211, as `eca validate` defaults to.
const EXPIRY_WARNING_DAYS: i64 = 30;

/// Codes that have no rules folder because no code path emits them yet. A code listed here
/// must not have a folder; every other code must. Empty: the validator emits every code today.
const NOT_YET_EMITTED: &[Code] = &[];

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn options(now: i64) -> Options {
    Options {
        now: Some(now),
        expiry_warning_days: EXPIRY_WARNING_DAYS,
    }
}

fn load_and_validate(root: &Path, now: i64) -> Result<(Project, Report), String> {
    let project = project::load(root).map_err(|e| format!("cannot load the project: {e}"))?;
    let report = validate::validate(&project, &options(now));
    Ok((project, report))
}

/// A diagnostic as `expected.txt` writes it: `path:line:code:severity`.
fn key(d: &Diagnostic) -> String {
    format!(
        "{}:{}:{}:{}",
        display_path(&d.file),
        d.line,
        d.code,
        d.severity
    )
}

/// A diagnostic with its message, for failure reports.
fn describe(d: &Diagnostic) -> String {
    format!("{}  {}", key(d), d.message)
}

fn list(diagnostics: &[Diagnostic]) -> String {
    if diagnostics.is_empty() {
        return "    (none)\n".to_owned();
    }
    diagnostics
        .iter()
        .map(|d| format!("    {}\n", describe(d)))
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot list {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", from.display()));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
        }
    }
}

/// Every file under `dir`, as `/`-separated paths relative to it, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(display_path(rel));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// The lines of a control file that are neither blank nor `#` comments.
fn control_lines(path: &Path) -> Vec<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect(),
        Err(_) => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Rules folders.

/// One expected diagnostic: `path:line:code` with an optional `:error` or `:warning`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expected {
    file: String,
    line: u32,
    code: String,
    severity: Option<Severity>,
}

impl Expected {
    fn parse(line: &str) -> Result<Expected, String> {
        let mut parts: Vec<&str> = line.split(':').collect();
        let severity = match parts.last() {
            Some(&"error") => Some(Severity::Error),
            Some(&"warning") => Some(Severity::Warning),
            _ => None,
        };
        if severity.is_some() {
            parts.pop();
        }
        let [file, number, code] = parts[..] else {
            return Err(format!(
                "`{line}` is not `path:line:code` or `path:line:code:severity`"
            ));
        };
        let line_number = number
            .parse()
            .map_err(|_| format!("`{line}`: `{number}` is not a line number"))?;
        if !Code::ALL.iter().any(|c| c.as_str() == code) {
            return Err(format!("`{line}`: `{code}` is not a diagnostic code"));
        }
        Ok(Expected {
            file: file.to_owned(),
            line: line_number,
            code: code.to_owned(),
            severity,
        })
    }

    fn matches(&self, d: &Diagnostic) -> bool {
        display_path(&d.file) == self.file
            && d.line == self.line
            && d.code.as_str() == self.code
            && self.severity.is_none_or(|s| s == d.severity)
    }
}

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.code)?;
        if let Some(s) = self.severity {
            write!(f, ":{s}")?;
        }
        Ok(())
    }
}

/// A rules folder, read and checked for shape.
#[derive(Debug)]
struct Rule {
    name: String,
    dir: PathBuf,
    expected: Vec<Expected>,
    now: i64,
    /// Files (relative to the rules folder) grown to a size at test time.
    pads: Vec<(String, u64)>,
    /// When set, each case is zipped under this folder name and read as a zip.
    zip_root: Option<String>,
}

const CONTROL_FILES: &[&str] = &["expected.txt", "now.txt", "pad.txt", "zip.txt"];

impl Rule {
    fn read(dir: &Path) -> Result<Rule, String> {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let code = rule_code(&name).ok_or_else(|| {
            "the folder name must be `<code>-<short-name>` with a code of Code::ALL".to_owned()
        })?;
        for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
            let entry = entry.map_err(|e| e.to_string())?;
            let file = entry.file_name().to_string_lossy().into_owned();
            let known = if entry.path().is_dir() {
                file == "fail" || file == "pass"
            } else {
                CONTROL_FILES.contains(&file.as_str())
            };
            if !known {
                return Err(format!(
                    "unexpected `{file}` (a rules folder holds fail/, pass/ and {})",
                    CONTROL_FILES.join(", ")
                ));
            }
        }
        for case in ["fail", "pass"] {
            if !dir.join(case).is_dir() {
                return Err(format!("no `{case}/` project"));
            }
        }
        let expected = control_lines(&dir.join("expected.txt"))
            .iter()
            .map(|l| Expected::parse(l))
            .collect::<Result<Vec<_>, _>>()?;
        if !expected.iter().any(|e| e.code == code.as_str()) {
            return Err(format!(
                "expected.txt lists no {code}, the code the folder is named after"
            ));
        }
        let now = match control_lines(&dir.join("now.txt")).as_slice() {
            [] => NOW,
            [seconds] => seconds
                .parse()
                .map_err(|_| format!("now.txt: `{seconds}` is not seconds since the epoch"))?,
            _ => return Err("now.txt holds more than one time".into()),
        };
        let pads = control_lines(&dir.join("pad.txt"))
            .iter()
            .map(|l| {
                let (path, size) = l
                    .rsplit_once(' ')
                    .ok_or_else(|| format!("pad.txt: `{l}` is not `path bytes`"))?;
                let size = size
                    .parse()
                    .map_err(|_| format!("pad.txt: `{size}` is not a size"))?;
                Ok((path.to_owned(), size))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let zip_root = control_lines(&dir.join("zip.txt")).into_iter().next();
        Ok(Rule {
            name,
            dir: dir.to_owned(),
            expected,
            now,
            pads,
            zip_root,
        })
    }

    /// Loads and validates the `fail` or `pass` project, preparing it in a temporary
    /// directory when the folder asks for padding or a zip.
    fn run(&self, case: &str) -> Result<(Project, Report), String> {
        let source = self.dir.join(case);
        let pads: Vec<&(String, u64)> = self
            .pads
            .iter()
            .filter(|(p, _)| p.starts_with(&format!("{case}/")))
            .collect();
        if pads.is_empty() && self.zip_root.is_none() {
            return load_and_validate(&source, self.now);
        }
        let temp = tempfile::tempdir().map_err(|e| e.to_string())?;
        let root = temp.path().join(case);
        copy_tree(&source, &root);
        for (path, size) in pads {
            let file = temp.path().join(path);
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&file)
                .map_err(|e| format!("pad.txt: {}: {e}", file.display()))?;
            let len = f.metadata().map_err(|e| e.to_string())?.len();
            let grow = usize::try_from(size.saturating_sub(len)).map_err(|e| e.to_string())?;
            // Blank lines after the root element keep the document well-formed.
            f.write_all(&vec![b'\n'; grow]).map_err(|e| e.to_string())?;
        }
        match &self.zip_root {
            None => load_and_validate(&root, self.now),
            Some(prefix) => {
                let zip_path = temp.path().join(format!("{case}.zip"));
                write_zip(&root, prefix, &zip_path);
                load_and_validate(&zip_path, self.now)
            }
        }
    }
}

/// The code a rules folder is named after.
fn rule_code(folder: &str) -> Option<Code> {
    let (code, rest) = folder.split_once('-')?;
    if rest.is_empty() {
        return None;
    }
    Code::ALL.iter().copied().find(|c| c.as_str() == code)
}

fn write_zip(dir: &Path, prefix: &str, to: &Path) {
    let file = std::fs::File::create(to).unwrap_or_else(|e| panic!("{}: {e}", to.display()));
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    for rel in files_under(dir) {
        let bytes = std::fs::read(dir.join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        zip.start_file(format!("{prefix}/{rel}"), options)
            .unwrap_or_else(|e| panic!("zip {rel}: {e}"));
        zip.write_all(&bytes)
            .unwrap_or_else(|e| panic!("zip {rel}: {e}"));
    }
    zip.finish()
        .unwrap_or_else(|e| panic!("zip {}: {e}", to.display()));
}

fn rules() -> Vec<PathBuf> {
    let dir = data_dir().join("rules");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

/// The `fail` project must produce exactly the expected diagnostics; returns what is wrong.
fn check_fail(rule: &Rule, actual: &[Diagnostic]) -> Option<String> {
    let mut unmatched: Vec<&Diagnostic> = actual.iter().collect();
    let mut missing = Vec::new();
    for e in &rule.expected {
        match unmatched.iter().position(|d| e.matches(d)) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(e),
        }
    }
    if missing.is_empty() && unmatched.is_empty() {
        return None;
    }
    let mut out = format!("{}/fail:\n", rule.name);
    for e in missing {
        let _ = writeln!(out, "  missing     {e}");
    }
    for d in unmatched {
        let _ = writeln!(out, "  unexpected  {}", describe(d));
    }
    let _ = writeln!(out, "  expected (expected.txt):");
    for e in &rule.expected {
        let _ = writeln!(out, "    {e}");
    }
    let _ = write!(out, "  actual:\n{}", list(actual));
    Some(out)
}

/// The `pass` project must be clean, and written in canonical form so that the fixtures stay
/// realistic (what a retrieve or `eca` would write).
fn check_pass(rule: &Rule, project: &Project, report: &Report) -> Option<String> {
    let mut out = String::new();
    if !report.diagnostics.is_empty() {
        let _ = write!(
            out,
            "  expected no diagnostics, got:\n{}",
            list(&report.diagnostics)
        );
    }
    for f in &project.files {
        let canonical = xml::parse_bytes(&f.bytes).map(|doc| xml::write_canonical(&doc.root));
        if canonical.as_deref().ok() != std::str::from_utf8(&f.bytes).ok() {
            let _ = writeln!(
                out,
                "  {} is not in canonical form (alphabetical, 4-space indent)",
                display_path(&f.path)
            );
        }
    }
    (!out.is_empty()).then(|| format!("{}/pass:\n{out}", rule.name))
}

/// Checks one rules folder: its `fail` project gives exactly the expected diagnostics, its
/// `pass` project none. Returns one failure report per case that is wrong.
fn check(dir: &Path) -> Vec<String> {
    let rule = match Rule::read(dir) {
        Ok(rule) => rule,
        Err(why) => return vec![format!("{}: {why}", dir.display())],
    };
    let mut failures = Vec::new();
    match rule.run("fail") {
        Ok((_, report)) => failures.extend(check_fail(&rule, &report.diagnostics)),
        Err(why) => failures.push(format!("{}/fail: {why}", rule.name)),
    }
    match rule.run("pass") {
        Ok((project, report)) => failures.extend(check_pass(&rule, &project, &report)),
        Err(why) => failures.push(format!("{}/pass: {why}", rule.name)),
    }
    failures
}

#[test]
fn every_rule_fails_and_passes_as_expected() {
    let folders = rules();
    assert!(!folders.is_empty(), "no rules folders");
    let failures: Vec<String> = folders.iter().flat_map(|dir| check(dir)).collect();
    assert!(
        failures.is_empty(),
        "{} failures in {} rules folders:\n\n{}",
        failures.len(),
        folders.len(),
        failures.join("\n")
    );
}

#[test]
fn every_code_has_a_rules_folder() {
    let covered: Vec<Code> = rules()
        .iter()
        .filter_map(|p| p.file_name().and_then(|n| rule_code(&n.to_string_lossy())))
        .collect();
    let mut problems = Vec::new();
    for code in Code::ALL {
        let has_folder = covered.contains(code);
        match (has_folder, NOT_YET_EMITTED.contains(code)) {
            (false, false) => problems.push(format!(
                "{code} ({}) has no tests/data/rules/{code}-* folder",
                code.title()
            )),
            (true, true) => problems.push(format!(
                "{code} has a rules folder; remove it from NOT_YET_EMITTED"
            )),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn docs_list_every_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/validation.md");
    let docs = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !docs.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/validation.md does not mention {}",
        missing.join(", ")
    );
}

// ---------------------------------------------------------------------------------------------
// Output snapshots.

fn snapshot_report() -> Report {
    let root = data_dir().join("snapshot-project");
    let (_, report) = load_and_validate(&root, NOW).unwrap_or_else(|e| panic!("{e}"));
    report
}

#[test]
fn human_output() {
    let report = snapshot_report();
    let rendered: Vec<String> = report
        .diagnostics
        .iter()
        .map(|d| render_human(d, report.source_of(&d.file)))
        .collect();
    insta::assert_snapshot!(rendered.join("\n"));
}

#[test]
fn json_output() {
    let report = snapshot_report();
    let json = serde_json::to_string_pretty(&report.diagnostics)
        .unwrap_or_else(|e| panic!("diagnostics serialize: {e}"));
    insta::assert_snapshot!(json);
}

#[test]
fn output_is_sorted_and_stable() {
    let first = snapshot_report();
    let keys: Vec<(String, u32, u32)> = first
        .diagnostics
        .iter()
        .map(|d| (display_path(&d.file), d.line, d.column))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "diagnostics are not sorted by file and position"
    );
    for _ in 0..3 {
        assert_eq!(snapshot_report().diagnostics, first.diagnostics);
    }
}

// ---------------------------------------------------------------------------------------------
// The examples of spec/metadata.md §11.

/// Examples that need a version other than 66.0, and why. A project built around an example
/// takes the version of any example in it.
const EXAMPLE_VERSIONS: &[(&str, &str)] = &[
    // Retrieved at API 62; `isNamedUserJwtEnabled` left the policies in v64.
    (
        "extlClntAppOauthPolicies/ecaViaMetadataSettings_defaultPolicy.ecaOauthPlcy-meta.xml",
        "62.0",
    ),
    // Retrieved from a 2026 org: `isEnforceRefreshTokenTTL` is newer than the v66 WSDL.
    (
        "extlClntAppGlobalOauthSets/Box_Automate_CLM_glbloauth.ecaGlblOauth-meta.xml",
        "67.0",
    ),
];

/// The diagnostics examples give because the example itself has a problem. Everything else
/// must validate without a single diagnostic.
const EXAMPLE_PROBLEMS: &[(&str, &[Code])] = &[
    // The spec quotes the JWT certificate truncated ("…(truncated)…").
    (
        "extlClntAppGlobalOauthSets/SOLU_CI_CD_glbloauth.ecaGlblOauth-meta.xml",
        &[Code::InvalidCertificate],
    ),
    // The official SAML sample elides both certificates (`MIIDzDCCArQCCQCFaZKGsGqZ...`).
    (
        "extlClntAppSamlConfigurablePolicies/myeca_samlpolicies.ecaSamlPlcy-meta.xml",
        &[Code::InvalidCertificate, Code::InvalidCertificate],
    ),
    // The official header sample has the placeholder `Org_ID:External_Client_App_Name`.
    (
        "externalClientApps/myeca.eca-meta.xml",
        &[Code::GeneratedValue],
    ),
];

const SOURCE_DIR: &str = "force-app/main/default";

/// One example file, classified.
#[derive(Debug)]
struct Example {
    rel: String,
    ty: MetadataType,
    /// The app it belongs to (its own name for a header; none for the org settings).
    app: Option<String>,
}

fn examples() -> Vec<Example> {
    let dir = data_dir().join("spec-examples");
    files_under(&dir)
        .into_iter()
        .filter(|rel| rel.ends_with(".xml"))
        .map(|rel| {
            let path = Path::new(SOURCE_DIR).join(&rel);
            let Classified::Component { ty, full_name } = project::classify(&path, Layout::Source)
            else {
                panic!("spec example {rel} is not a component file");
            };
            let app = match ty {
                MetadataType::ExternalClientApplication => Some(full_name),
                MetadataType::OrgSettings => None,
                _ => {
                    let bytes =
                        std::fs::read(dir.join(&rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
                    let doc = xml::parse_bytes(&bytes).unwrap_or_else(|e| panic!("{rel}: {e}"));
                    doc.root
                        .child("externalClientApplication")
                        .map(|e| e.text.trimmed().to_owned())
                }
            };
            Example { rel, ty, app }
        })
        .collect()
}

fn stub_header(app: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ExternalClientApplication xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>admin@example.com</contactEmail>
    <distributionState>Local</distributionState>
    <label>{app}</label>
</ExternalClientApplication>
"#
    )
}

fn stub_oauth(app: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppOauthSettings xmlns="http://soap.sforce.com/2006/04/metadata">
    <commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes>
    <externalClientApplication>{app}</externalClientApplication>
    <label>{app}_oauth</label>
</ExtlClntAppOauthSettings>
"#
    )
}

/// Builds a project around one example: the example, the app's header, and what the rules
/// across files need beside it (OAuth settings for global settings and plugins, the OAuth
/// policies that name the client-credentials user). Companions come from the examples when
/// there is one, else a minimal stub. Returns the example files included.
fn example_project(example: &Example, all: &[Example], root: &Path) -> Vec<String> {
    let write = |rel: &str, text: &[u8]| {
        let path = root.join(SOURCE_DIR).join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    };
    let mut included = vec![example.rel.clone()];
    let mut companion = |ty: MetadataType, stub: Option<String>, name: String| {
        let found = all
            .iter()
            .find(|e| e.ty == ty && e.app == example.app && e.rel != example.rel);
        match (found, stub) {
            (Some(e), _) => included.push(e.rel.clone()),
            (None, Some(text)) => write(
                &format!("{}/{}", ty.directory(), ty.source_file_name(&name)),
                text.as_bytes(),
            ),
            (None, None) => {}
        }
    };
    if let Some(app) = &example.app {
        use MetadataType as T;
        if example.ty != T::ExternalClientApplication {
            companion(
                T::ExternalClientApplication,
                Some(stub_header(app)),
                app.clone(),
            );
        }
        if matches!(
            example.ty,
            T::GlobalOauthSettings | T::PushSettings | T::NotificationSettings
        ) {
            companion(
                T::OauthSettings,
                Some(stub_oauth(app)),
                format!("{app}_oauth"),
            );
        }
        if example.ty == T::GlobalOauthSettings {
            companion(T::OauthPolicies, None, String::new());
        }
    }
    let examples_dir = data_dir().join("spec-examples");
    for rel in &included {
        let bytes = std::fs::read(examples_dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        write(rel, &bytes);
    }
    // The version one of the files needs, or 66.0.
    let mut versions: Vec<&str> = EXAMPLE_VERSIONS
        .iter()
        .filter(|(rel, _)| included.iter().any(|i| i == rel))
        .map(|(_, v)| *v)
        .collect();
    versions.dedup();
    let version = match versions.as_slice() {
        [] => "66.0",
        [one] => one,
        several => panic!("{}: the examples need versions {several:?}", example.rel),
    };
    let sfdx = format!(
        r#"{{"packageDirectories":[{{"path":"force-app","default":true}}],"sourceApiVersion":"{version}"}}"#
    );
    std::fs::write(root.join("sfdx-project.json"), sfdx).unwrap_or_else(|e| panic!("{e}"));
    included
}

#[test]
fn spec_examples_validate() {
    let all = examples();
    assert!(
        all.len() >= 20,
        "expected the §11 examples in tests/data/spec-examples"
    );
    let mut failures = Vec::new();
    for example in &all {
        let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let included = example_project(example, &all, temp.path());
        let (_, report) = load_and_validate(temp.path(), NOW).unwrap_or_else(|e| panic!("{e}"));
        // What the examples in the project may give: their known problems, nothing else.
        let mut allowed: BTreeMap<(String, Code), usize> = BTreeMap::new();
        for rel in &included {
            for (_, codes) in EXAMPLE_PROBLEMS.iter().filter(|(r, _)| r == rel) {
                for code in *codes {
                    *allowed
                        .entry((format!("{SOURCE_DIR}/{rel}"), *code))
                        .or_default() += 1;
                }
            }
        }
        let mut actual: BTreeMap<(String, Code), usize> = BTreeMap::new();
        for d in &report.diagnostics {
            *actual.entry((display_path(&d.file), d.code)).or_default() += 1;
        }
        if actual != allowed {
            failures.push(format!(
                "{} (project: {}):\n  expected {:?}\n  actual:\n{}",
                example.rel,
                included.join(", "),
                allowed,
                list(&report.diagnostics)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn spec_example_tables_name_real_files() {
    let all = examples();
    let named = EXAMPLE_VERSIONS
        .iter()
        .map(|(rel, _)| *rel)
        .chain(EXAMPLE_PROBLEMS.iter().map(|(rel, _)| *rel));
    for rel in named {
        assert!(
            all.iter().any(|e| e.rel == rel),
            "{rel} is not a spec example"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Package directories that lead outside the project.

/// Review found that a package directory reached through a symbolic link was walked as if it
/// were in the project, and written into by `eca app new`: it is an ECA0400 error, and
/// nothing behind the link is read.
#[cfg(unix)]
#[test]
fn package_directory_through_a_symlink_is_refused() {
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = temp.path().join("project");
    let elsewhere = temp.path().join("elsewhere");
    let header = elsewhere.join("main/default/externalClientApps/Shop.eca-meta.xml");
    std::fs::create_dir_all(header.parent().unwrap_or(&elsewhere))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&header, "not XML").unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(root.join("force-app")).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&elsewhere, root.join("linked")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        root.join("sfdx-project.json"),
        "{\n  \"packageDirectories\": [\n    {\"path\": \"force-app\"},\n    {\"path\": \"linked\", \"default\": true}\n  ]\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (project, report) = load_and_validate(&root, NOW).unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<String> = report.diagnostics.iter().map(key).collect();
    assert_eq!(
        keys,
        ["sfdx-project.json:4:ECA0400:error"],
        "{}",
        list(&report.diagnostics)
    );
    assert!(
        report.diagnostics[0]
            .message
            .contains("outside the project"),
        "{}",
        report.diagnostics[0].message
    );
    let sfdx = project.sfdx.unwrap_or_else(|| panic!("a source project"));
    let paths: Vec<&str> = sfdx
        .package_directories
        .iter()
        .map(|d| d.path.as_str())
        .collect();
    assert_eq!(paths, ["force-app"]);
}

/// Review found that the files macOS and editors leave beside the metadata (`.DS_Store`,
/// AppleDouble `._Name` files, swap files) failed validation; the Salesforce CLI ignores them
/// (`**/.*`, `**/*.dup`) in every project, and so does the project walk.
#[test]
fn dot_files_and_dups_are_ignored_by_default() {
    let temp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = temp.path().join("project");
    copy_tree(
        &data_dir().join("rules/ECA0400-sfdx-project-trailing-comma/pass"),
        &root,
    );
    let headers = root.join("force-app/main/default/externalClientApps");
    for (name, bytes) in [
        (".DS_Store", &b"\0\0\0\x01Bud1"[..]),
        (
            "._Acme_Portal.eca-meta.xml",
            &b"\0\x05\x16\x07\0\x02\0\0Mac OS X"[..],
        ),
        (".Acme_Portal.eca-meta.xml.swp", &b"b0VIM 9.0"[..]),
        ("Acme_Portal.eca-meta.xml.dup", &b"<half a file"[..]),
    ] {
        std::fs::write(headers.join(name), bytes).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(root.join("force-app/.DS_Store"), b"\0").unwrap_or_else(|e| panic!("{e}"));
    let (project, report) = load_and_validate(&root, NOW).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.diagnostics.is_empty(),
        "{}",
        list(&report.diagnostics)
    );
    assert_eq!(project.files.len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Callback URLs, one per line.

/// The diagnostics of one global OAuth settings file whose `callbackUrl` is `urls`, as
/// `(line, column, code, severity)`.
fn callback_diagnostics(urls: &str) -> Vec<(u32, u32, Code, Severity)> {
    let text = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <ExtlClntAppGlobalOauthSettings xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n    \
         <callbackUrl>{urls}</callbackUrl>\n    \
         <externalClientApplication>A</externalClientApplication>\n    \
         <label>A_glbl</label>\n\
         </ExtlClntAppGlobalOauthSettings>\n"
    );
    let options = options(NOW);
    let ctx = validate::FileContext {
        version: eca_metadata::ApiVersion::DEFAULT,
        options: &options,
    };
    let outcome = validate::check_file(
        MetadataType::GlobalOauthSettings,
        "A_glbl",
        Path::new("A_glbl.ecaGlblOauth-meta.xml"),
        text.as_bytes(),
        ctx,
    );
    outcome
        .diagnostics
        .iter()
        .map(|d| (d.line, d.column, d.code, d.severity))
        .collect()
}

/// Review found that every bad URL of a multi-line `callbackUrl` was reported at the first
/// line, and that `https://a/cb,https://b/cb` (one URL to Salesforce) passed silently.
#[test]
fn callback_urls_are_reported_at_their_own_line_and_column() {
    use Severity::{Error, Warning};
    let bad = Code::InvalidUrl;
    // <callbackUrl> opens at line 3, column 5; its value starts at column 18.
    assert_eq!(
        callback_diagnostics("https://a.example/cb\nexample.com/cb\n   /path"),
        [(4, 1, bad, Error), (5, 4, bad, Error)]
    );
    assert_eq!(
        callback_diagnostics("\n        nope\n        https://a.example/cb"),
        [(4, 9, bad, Error)]
    );
    assert_eq!(callback_diagnostics("relative/cb"), [(3, 18, bad, Error)]);
    let commas = Code::CommaSeparatedCallbacks;
    assert_eq!(
        callback_diagnostics("https://a.example/cb\nhttps://b.example/cb,myapp://cb"),
        [(4, 22, commas, Warning)]
    );
    assert_eq!(
        callback_diagnostics("https://a.example/cb,https://b.example/cb"),
        [(3, 39, commas, Warning)]
    );
    // A comma inside a URL is no separator.
    assert!(callback_diagnostics("https://a.example/cb?scope=a,b&amp;x=y:z").is_empty());
}
