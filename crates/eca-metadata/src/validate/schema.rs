//! The generic checks, driven by the WSDL tables in [`crate::schema`]: unknown elements (with
//! the nearest real name), required and repeated elements, booleans, integers, enumerations
//! and the API versions each element exists in.

use std::collections::HashMap;
use std::num::IntErrorKind;
use std::path::Path;

use crate::catalog::MetadataType;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::schema::{self, ComplexDef, EnumDef, FieldDef, Kind};
use crate::suggest;
use crate::version::ApiVersion;
use crate::xml::Element;

/// Elements that public (often machine-written) guides invent, with the real field they mean
/// (`spec/metadata.md` §0, §2.3).
const INVENTED: &[(&str, &str)] = &[
    ("scopes", "commaSeparatedOauthScopes"),
    ("oauthScopes", "commaSeparatedOauthScopes"),
    ("ipRelaxation", "ipRelaxationPolicyType"),
    ("isAdminApproved", "permittedUsersPolicyType"),
    (
        "isClientCredentialEnabled",
        "isClientCredentialsFlowEnabled",
    ),
    ("callbackUrls", "callbackUrl"),
    ("runAsUser", "clientCredentialsFlowUser"),
];

pub(super) fn check(
    ty: MetadataType,
    root: &Element,
    path: &Path,
    version: ApiVersion,
    out: &mut Vec<Diagnostic>,
) {
    check_complex(schema::of(ty), root, path, version, out);
}

fn check_complex(
    def: &'static ComplexDef,
    element: &Element,
    path: &Path,
    version: ApiVersion,
    out: &mut Vec<Diagnostic>,
) {
    if !element.text.trimmed().is_empty() {
        out.push(
            Diagnostic::new(
                Code::UnexpectedContent,
                path,
                element.text.span,
                format!("<{}> holds elements, not text", element.name),
            )
            .with_help("remove the stray text"),
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for child in &element.children {
        let Some(field) = def.field(&child.name) else {
            out.push(unknown_element(def, child, path));
            continue;
        };
        let count = seen.entry(field.name).or_default();
        *count += 1;
        if *count == 2 && !field.repeated {
            out.push(
                Diagnostic::new(
                    Code::RepeatedElement,
                    path,
                    child.span,
                    format!("<{}> appears more than once in {}", field.name, def.name),
                )
                .with_help(
                    "keep one; for several values this field uses a single separated string",
                ),
            );
        }
        if !field.exists_at(version) {
            out.push(not_in_version(def, field, child, path, version));
        }
        check_value(field, child, path, version, out);
    }
    for field in def.fields {
        if field.required && field.exists_at(version) && !seen.contains_key(field.name) {
            out.push(
                Diagnostic::new(
                    Code::MissingElement,
                    path,
                    element.span,
                    format!(
                        "{} is missing the required element <{}>",
                        def.name, field.name
                    ),
                )
                .with_help(format!("add <{0}>…</{0}>", field.name)),
            );
        }
    }
}

fn unknown_element(def: &ComplexDef, child: &Element, path: &Path) -> Diagnostic {
    let invented = INVENTED
        .iter()
        .find(|(bad, real)| *bad == child.name && def.fields.iter().any(|f| f.name == *real))
        .map(|(_, real)| *real);
    let nearest =
        invented.or_else(|| suggest::nearest(&child.name, def.fields.iter().map(|f| f.name)));
    let d = Diagnostic::new(
        Code::UnknownElement,
        path,
        child.span,
        format!("<{}> is not an element of {}", child.name, def.name),
    );
    match nearest {
        // A near miss of a real element is a typo that the deploy would reject: an error.
        Some(real) => d
            .with_severity(Severity::Error)
            .with_help(format!("did you mean <{real}>?")),
        // Possibly a field newer than our tables: kept as written, reported as a warning.
        None => d.with_help(format!(
            "the element is kept as written, but Salesforce rejects elements that {} does not define",
            def.name
        )),
    }
}

fn not_in_version(
    def: &ComplexDef,
    field: &FieldDef,
    child: &Element,
    path: &Path,
    version: ApiVersion,
) -> Diagnostic {
    let range = match (field.since, field.until) {
        (0, Some(u)) => format!("up to {}", ApiVersion::new(u)),
        (s, Some(u)) => format!("in {} to {}", ApiVersion::new(s), ApiVersion::new(u)),
        (s, None) => format!("from {}", ApiVersion::new(s)),
    };
    let help = match field.until {
        Some(u) if version.major() > u => {
            format!("remove it; deploying it at API {version} fails")
        }
        _ => format!(
            "raise sourceApiVersion to {} or later, or remove the element",
            ApiVersion::new(field.since)
        ),
    };
    Diagnostic::new(
        Code::FieldNotInVersion,
        path,
        child.span,
        format!(
            "<{}> does not exist in {} at API {version} (it exists {range})",
            field.name, def.name
        ),
    )
    .with_help(help)
}

fn check_value(
    field: &'static FieldDef,
    child: &Element,
    path: &Path,
    version: ApiVersion,
    out: &mut Vec<Diagnostic>,
) {
    if let Kind::Complex(inner) = field.kind {
        check_complex(inner, child, path, version, out);
        return;
    }
    if !child.children.is_empty() {
        out.push(
            Diagnostic::new(
                Code::UnexpectedContent,
                path,
                child.children[0].span,
                format!("<{}> holds a value, not elements", field.name),
            )
            .with_help(format!("write <{0}>value</{0}>", field.name)),
        );
        return;
    }
    let value = child.text.trimmed();
    let span = child.text.span;
    match field.kind {
        Kind::Bool => {
            if !matches!(value, "true" | "false" | "1" | "0") {
                out.push(
                    Diagnostic::new(
                        Code::InvalidBoolean,
                        path,
                        span,
                        format!("<{}>: `{value}` is not a boolean", field.name),
                    )
                    .with_help("write true or false"),
                );
            }
        }
        Kind::Int => match schema::parse_int(value) {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    IntErrorKind::PosOverflow | IntErrorKind::NegOverflow
                ) =>
            {
                out.push(
                    Diagnostic::new(
                        Code::OutOfRange,
                        path,
                        span,
                        format!(
                            "<{}>: {value} is out of range for an int (from {} to {})",
                            field.name,
                            i32::MIN,
                            i32::MAX
                        ),
                    )
                    .with_help("the field is an xsd:int, a 32-bit integer"),
                );
            }
            Err(_) => out.push(
                Diagnostic::new(
                    Code::InvalidInteger,
                    path,
                    span,
                    format!("<{}>: `{value}` is not an integer", field.name),
                )
                .with_help("write a whole number such as 30"),
            ),
        },
        Kind::Enum(def) => {
            if let Some(d) = check_enum(def, field, value, child, path, version) {
                out.push(d);
            }
        }
        Kind::Str => {
            if field.required && value.is_empty() {
                out.push(
                    Diagnostic::new(
                        Code::EmptyValue,
                        path,
                        span,
                        format!("<{}> is required and may not be empty", field.name),
                    )
                    .with_help("give it a value"),
                );
            }
        }
        Kind::Complex(_) => {}
    }
}

fn check_enum(
    def: &EnumDef,
    field: &FieldDef,
    value: &str,
    child: &Element,
    path: &Path,
    version: ApiVersion,
) -> Option<Diagnostic> {
    let valid = def.public_values(version).join(", ");
    let span = child.text.span;
    if let Some(found) = def.find(value) {
        if found.internal {
            return Some(
                Diagnostic::new(
                    Code::InvalidEnum,
                    path,
                    span,
                    format!(
                        "`{value}` is an internal {} value (use one of: {valid})",
                        def.name
                    ),
                )
                .with_help("Salesforce sets internal values itself; customers cannot deploy them"),
            );
        }
        if found.since > version.major() {
            return Some(
                Diagnostic::new(
                    Code::InvalidEnum,
                    path,
                    span,
                    format!(
                        "`{value}` is not a valid {} at API {version} (valid: {valid})",
                        def.name
                    ),
                )
                .with_help(format!(
                    "it exists from API {}; raise sourceApiVersion or pick another value",
                    ApiVersion::new(found.since)
                )),
            );
        }
        return None;
    }
    if let Some(found) = def.find_ignore_case(value) {
        if def.string_typed {
            return Some(
                Diagnostic::new(
                    Code::EnumCase,
                    path,
                    span,
                    format!(
                        "<{}>: `{value}` is accepted, but the documented spelling is `{}`",
                        field.name, found.name
                    ),
                )
                .with_help(format!(
                    "{} is a string matched without regard to case; write `{}` to keep diffs stable",
                    field.name, found.name
                )),
            );
        }
        return Some(
            Diagnostic::new(
                Code::InvalidEnum,
                path,
                span,
                format!("`{value}` is not a valid {} (valid: {valid})", def.name),
            )
            .with_help(format!(
                "enumeration values are case-sensitive: did you mean `{}`?",
                found.name
            )),
        );
    }
    let help = match suggest::nearest(value, def.public_values(version)) {
        Some(s) => format!("did you mean `{s}`?"),
        None => format!("use one of: {valid}"),
    };
    Some(
        Diagnostic::new(
            Code::InvalidEnum,
            path,
            span,
            format!("`{value}` is not a valid {} (valid: {valid})", def.name),
        )
        .with_help(help),
    )
}
