//! Diagnostics: every problem the validator finds, with a stable code, a position, a one-line
//! message and help text. Codes never change meaning once published; `docs/validation.md`
//! lists them all (a test keeps the two in step).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::xml::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $title:literal; )*) => {
        /// Every diagnostic code. The string form (`ECA0103`) is the stable public name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// The severity this code has unless a rule says otherwise.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// A short title, used in the docs table.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }
        }
    };
}

codes! {
    // Files and documents.
    Unreadable = "ECA0001", Error, "file cannot be read";
    MalformedXml = "ECA0002", Error, "XML is not well-formed";
    Doctype = "ECA0003", Error, "DOCTYPE or entity declaration";
    TooLarge = "ECA0004", Error, "file over the size limit";
    UnknownSuffix = "ECA0010", Error, "unknown metadata file suffix";
    UnknownDirectory = "ECA0011", Error, "unknown metadata directory";
    WrongDirectory = "ECA0012", Error, "file in the wrong directory for its type";
    WrongRoot = "ECA0013", Error, "wrong root element";
    WrongNamespace = "ECA0014", Error, "missing or wrong metadata namespace";
    TypeNotInVersion = "ECA0015", Error, "type not available at the project's API version";
    DuplicateComponent = "ECA0016", Error, "two files define the same component";
    BadComponentName = "ECA0017", Error, "invalid component name";
    // Elements and values.
    UnknownElement = "ECA0100", Warning, "unknown element";
    MissingElement = "ECA0101", Error, "required element missing";
    RepeatedElement = "ECA0102", Error, "element may appear only once";
    InvalidBoolean = "ECA0103", Error, "not a boolean";
    InvalidInteger = "ECA0104", Error, "not an integer";
    InvalidEnum = "ECA0105", Error, "not a valid value for the enumeration";
    EnumCase = "ECA0106", Warning, "value differs from the canonical spelling in case";
    FieldNotInVersion = "ECA0107", Error, "element not available at the project's API version";
    UnexpectedContent = "ECA0108", Error, "unexpected text or child elements";
    EmptyValue = "ECA0109", Error, "empty value";
    // Rules on one file.
    UnknownHeader = "ECA0200", Error, "externalClientApplication names no header";
    DuplicatePlugin = "ECA0201", Error, "more than one file for the same app and plugin";
    TooManyEntries = "ECA0202", Error, "more than 128 entries";
    DuplicateKey = "ECA0203", Error, "duplicate key";
    InvalidIpAddress = "ECA0204", Error, "invalid IP address";
    InvalidIpRange = "ECA0205", Error, "IP range start is after its end";
    OutOfRange = "ECA0206", Error, "number out of range";
    InvalidJwtTimeout = "ECA0207", Error, "JWT timeout not in the allowed set";
    UnknownScope = "ECA0208", Error, "unknown OAuth scope";
    InvalidUrl = "ECA0209", Error, "not an absolute URL";
    InvalidCertificate = "ECA0210", Error, "certificate does not parse";
    CertificateExpiry = "ECA0211", Warning, "certificate expired or expiring soon";
    InvalidFormula = "ECA0212", Error, "custom attribute formula does not parse";
    DuplicateScope = "ECA0213", Warning, "scope listed twice";
    RefreshTokenPolicy = "ECA0214", Error, "refresh token policy values do not fit together";
    JwtTimeoutType = "ECA0215", Warning, "JWT timeout set but not used";
    GeneratedValue = "ECA0216", Warning, "platform-generated value in source";
    StartPage = "ECA0217", Error, "start page needs a start URL";
    CommaSeparatedCallbacks = "ECA0218", Warning, "comma-separated callback URLs on one line";
    InvalidCustomScope = "ECA0219", Error, "custom scope name cannot be used on the wire";
    // Rules across files.
    ClientCredentialsUser = "ECA0300", Warning, "client credentials without a run-as user";
    GlobalWithoutOauth = "ECA0301", Error, "global OAuth settings without OAuth settings";
    SecretInSource = "ECA0302", Warning, "consumer secret committed to source";
    PackagedSaml = "ECA0303", Error, "SAML policies on a Packaged app";
    NotPackageable = "ECA0304", Error, "component cannot be packaged";
    PushConfig = "ECA0305", Error, "push settings need exactly one matching config";
    SamlPluginDisabled = "ECA0306", Warning, "SAML policies while the SAML plugin is off";
    PluginWithoutOauth = "ECA0307", Error, "plugin requires the OAuth plugin";
    NamespaceMismatch = "ECA0308", Error, "namespace prefix is not the project's";
    LocalAppInPackage = "ECA0309", Error, "Local app in a package directory that builds a package";
    // Project files.
    ProjectFile = "ECA0400", Error, "invalid sfdx-project.json";
    PackageDirectory = "ECA0401", Error, "package directory missing";
    Manifest = "ECA0402", Error, "invalid package.xml or destructive changes manifest";
    ManifestMember = "ECA0403", Warning, "manifest member not in the project";
    ForceIgnore = "ECA0404", Warning, "invalid .forceignore pattern";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Path relative to the project root given to the validator, with `/` separators.
    #[serde(serialize_with = "serialize_path")]
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    #[serde(skip)]
    pub len: u32,
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
}

fn serialize_path<S: serde::Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&display_path(p))
}

/// A path as we print it: forward slashes on every platform.
pub fn display_path(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

impl Diagnostic {
    pub fn new(
        code: Code,
        file: impl Into<PathBuf>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line: span.line.max(1),
            column: span.column.max(1),
            len: span.len.max(1),
            code,
            severity: code.default_severity(),
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics for stable output: by file, then position, then code.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.code, &a.message)
            .cmp(&(&b.file, b.line, b.column, b.code, &b.message))
    });
}

/// Renders one diagnostic for people, with the offending source line underlined:
///
/// ```text
/// error[ECA0105]: `AdminApproved` is not a valid PermittedUsersPolicyType
///   --> force-app/main/default/extlClntAppOauthPolicies/A.ecaOauthPlcy-meta.xml:9:31
///    |
///  9 |     <permittedUsersPolicyType>AdminApproved</permittedUsersPolicyType>
///    |                               ^^^^^^^^^^^^^
///    = help: valid values: AllSelfAuthorized, AdminApprovedPreAuthorized
/// ```
pub fn render_human(d: &Diagnostic, source: Option<&str>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "{}[{}]: {}", d.severity, d.code, d.message);
    let _ = writeln!(
        out,
        "  --> {}:{}:{}",
        display_path(&d.file),
        d.line,
        d.column
    );
    let line_text = source.and_then(|s| s.lines().nth(d.line as usize - 1));
    let gutter = d.line.to_string().len();
    if let Some(text) = line_text {
        let text = text.trim_end_matches('\r');
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, " {pad} |");
        // Tabs would misalign the marker; show them as single spaces.
        let shown: String = text
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        let _ = writeln!(out, " {} | {}", d.line, shown);
        let available = shown.chars().count().saturating_sub(d.column as usize - 1);
        let width = (d.len as usize).clamp(1, available.max(1));
        let _ = writeln!(
            out,
            " {pad} | {}{}",
            " ".repeat(d.column as usize - 1),
            "^".repeat(width)
        );
    }
    if let Some(help) = &d.help {
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, " {pad} = help: {help}");
    }
    out
}
