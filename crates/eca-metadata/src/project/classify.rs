//! Which metadata type a file is, from its folder and suffix, and a "did you mean" for files
//! that are almost an ECA file (`.ecaGlobalOauth`, `.ecaPolicy`,
//! `extlClntAppConfigurablePolicies/`), which Salesforce would otherwise silently skip or
//! reject with "was not found in zipped directory" (`spec/metadata.md` §5.5).

use std::path::Path;

use super::Layout;
use crate::catalog::{MetadataType, ORG_SETTINGS_NAME};
use crate::diagnostic::{Code, Diagnostic};
use crate::suggest;
use crate::xml::Span;

const META_XML: &str = "-meta.xml";

/// What a path turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    Component {
        ty: MetadataType,
        full_name: String,
    },
    /// A file that looks like an ECA file but is named or placed wrongly.
    Problem(Diagnostic),
    /// Some other file (Apex, permission sets, README...).
    NotOurs,
}

fn eca_types() -> impl Iterator<Item = MetadataType> {
    MetadataType::ALL
        .iter()
        .copied()
        .filter(|t| *t != MetadataType::OrgSettings)
}

/// Classifies a path relative to the project root.
pub fn classify(rel: &Path, layout: Layout) -> Classified {
    let Some(file_name) = rel.file_name().and_then(|f| f.to_str()) else {
        return Classified::NotOurs;
    };
    let parent = rel
        .parent()
        .and_then(Path::file_name)
        .and_then(|p| p.to_str())
        .unwrap_or("");
    let at = Span::new(1, 1, 1);

    let (stem, has_meta) = match file_name.strip_suffix(META_XML) {
        Some(stem) => (stem, true),
        None => (file_name, false),
    };
    let Some((name, suffix)) = stem.rsplit_once('.') else {
        return Classified::NotOurs;
    };

    // The org-level settings file.
    if suffix == "settings" {
        if parent != "settings" {
            return Classified::NotOurs;
        }
        if name == ORG_SETTINGS_NAME {
            return check_layout(rel, layout, has_meta, MetadataType::OrgSettings, name);
        }
        if suggest::distance(name, ORG_SETTINGS_NAME) <= 3 {
            return Classified::Problem(
                Diagnostic::new(
                    Code::BadComponentName,
                    rel,
                    at,
                    format!("settings file `{file_name}` is not a known settings name"),
                )
                .with_help(format!(
                    "did you mean `{}`? The External Client App org settings are `ExternalClientApp`",
                    MetadataType::OrgSettings.source_file_name(ORG_SETTINGS_NAME)
                )),
            );
        }
        return Classified::NotOurs;
    }

    if let Some(ty) = MetadataType::from_suffix(suffix) {
        if parent == ty.directory() {
            return check_layout(rel, layout, has_meta, ty, name);
        }
        let help = format!(
            "`.{}` files belong in `{}/`; move it there",
            ty.suffix(),
            ty.directory()
        );
        let message = if let Some(other) = MetadataType::from_directory(parent) {
            format!(
                "this {} file is in `{parent}/`, the folder of {}",
                ty.name(),
                other.name()
            )
        } else if suggest::nearest(parent, eca_types().map(MetadataType::directory)).is_some() {
            format!(
                "`{parent}/` is not a metadata folder (did you mean `{}/`?)",
                ty.directory()
            )
        } else {
            format!("this {} file is in `{parent}/`", ty.name())
        };
        let code = if MetadataType::from_directory(parent).is_some() {
            Code::WrongDirectory
        } else {
            Code::UnknownDirectory
        };
        return Classified::Problem(Diagnostic::new(code, rel, at, message).with_help(help));
    }

    // Unknown suffix: ours only if it sits in an ECA folder or looks like an ECA suffix.
    let in_eca_dir =
        MetadataType::from_directory(parent).filter(|t| *t != MetadataType::OrgSettings);
    // `get`: a suffix of other characters than ASCII may not split at its third byte.
    let looks_like_eca = suffix
        .get(..3)
        .is_some_and(|s| s.eq_ignore_ascii_case("eca"));
    if in_eca_dir.is_none() && !looks_like_eca {
        return Classified::NotOurs;
    }
    let suggestion = match in_eca_dir {
        Some(ty) => Some(ty.suffix()),
        None => suggest::nearest(suffix, eca_types().map(MetadataType::suffix)),
    };
    let help = match suggestion {
        Some(s) => {
            let ty = MetadataType::from_suffix(s).unwrap_or(MetadataType::ExternalClientApplication);
            format!(
                "did you mean `.{s}`? {} files are named `{}` in `{}/`",
                ty.name(),
                expected_name(ty, name, layout),
                ty.directory()
            )
        }
        None => "External Client App suffixes are .eca, .ecaOauth, .ecaGlblOauth, .ecaOauthPlcy, .ecaPlcy, .ecaSamlPlcy and the plugin suffixes listed in docs/metadata.md".to_owned(),
    };
    Classified::Problem(
        Diagnostic::new(
            Code::UnknownSuffix,
            rel,
            at,
            format!("`.{suffix}` is not a metadata file suffix"),
        )
        .with_help(help),
    )
}

fn expected_name(ty: MetadataType, name: &str, layout: Layout) -> String {
    match layout {
        Layout::Source => ty.source_file_name(name),
        Layout::MetadataApi => ty.mdapi_file_name(name),
    }
}

fn check_layout(
    rel: &Path,
    layout: Layout,
    has_meta: bool,
    ty: MetadataType,
    name: &str,
) -> Classified {
    let at = Span::new(1, 1, 1);
    match (layout, has_meta) {
        (Layout::Source, false) => {
            return Classified::Problem(
                Diagnostic::new(
                    Code::UnknownSuffix,
                    rel,
                    at,
                    "source-format metadata files end in `-meta.xml`",
                )
                .with_help(format!("rename it to `{}`", ty.source_file_name(name))),
            );
        }
        (Layout::MetadataApi, true) => {
            return Classified::Problem(
                Diagnostic::new(
                    Code::UnknownSuffix,
                    rel,
                    at,
                    "Metadata API format files have no `-meta.xml` ending",
                )
                .with_help(format!(
                    "rename it to `{}`, or convert the project with `eca project convert`",
                    ty.mdapi_file_name(name)
                )),
            );
        }
        _ => {}
    }
    if let Err(why) = check_api_name(name) {
        return Classified::Problem(
            Diagnostic::new(
                Code::BadComponentName,
                rel,
                at,
                format!("`{name}` is not a valid API name: {why}"),
            )
            .with_help("API names start with a letter and hold letters, digits and single underscores; a namespace prefix is written `ns__Name`"),
        );
    }
    Classified::Component {
        ty,
        full_name: name.to_owned(),
    }
}

/// Checks a developer name, allowing one `ns__` namespace prefix.
pub fn check_api_name(name: &str) -> Result<(), &'static str> {
    let local = match name.split_once("__") {
        Some((ns, rest)) => {
            if ns.is_empty() || !ns.starts_with(|c: char| c.is_ascii_alphabetic()) {
                return Err("the namespace prefix must start with a letter");
            }
            rest
        }
        None => name,
    };
    if local.is_empty() {
        return Err("it is empty");
    }
    if !local.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("it must start with a letter");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("it may hold only letters, digits and underscores");
    }
    if local.contains("__") {
        return Err("it may not contain two underscores in a row");
    }
    if local.ends_with('_') {
        return Err("it may not end with an underscore");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(path: &str) -> Diagnostic {
        match classify(Path::new(path), Layout::Source) {
            Classified::Problem(d) => d,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn known_files() {
        assert_eq!(
            classify(
                Path::new(
                    "force-app/main/default/extlClntAppGlobalOauthSets/A_glbloauth.ecaGlblOauth-meta.xml"
                ),
                Layout::Source
            ),
            Classified::Component {
                ty: MetadataType::GlobalOauthSettings,
                full_name: "A_glbloauth".into()
            }
        );
        assert_eq!(
            classify(
                Path::new("settings/ExternalClientApp.settings"),
                Layout::MetadataApi
            ),
            Classified::Component {
                ty: MetadataType::OrgSettings,
                full_name: "ExternalClientApp".into()
            }
        );
        assert_eq!(
            classify(
                Path::new("force-app/main/default/classes/A.cls-meta.xml"),
                Layout::Source
            ),
            Classified::NotOurs
        );
        assert_eq!(
            classify(
                Path::new("force-app/main/default/settings/Security.settings-meta.xml"),
                Layout::Source
            ),
            Classified::NotOurs
        );
        // A suffix whose third byte falls inside a character (`é` is two bytes).
        for path in ["notes.abé", "notes.é", "x/notes.aé"] {
            assert_eq!(
                classify(Path::new(path), Layout::MetadataApi),
                Classified::NotOurs,
                "{path}"
            );
        }
    }

    #[test]
    fn typos_get_suggestions() {
        let d = problem("f/extlClntAppGlobalOauthSets/A.ecaGlobalOauth-meta.xml");
        assert_eq!(d.code, Code::UnknownSuffix);
        assert!(d.help.unwrap().contains("`.ecaGlblOauth`"));
        let d = problem("f/extlClntAppPolicies/A.ecaPolicy-meta.xml");
        assert!(d.help.unwrap().contains("`.ecaPlcy`"));
        let d = problem("f/somewhere/A.ecaPolicy-meta.xml");
        assert!(d.help.unwrap().contains("`.ecaPlcy`"));
        let d = problem("f/extlClntAppConfigurablePolicies/A.ecaPlcy-meta.xml");
        assert_eq!(d.code, Code::UnknownDirectory);
        assert!(
            d.message.contains("did you mean `extlClntAppPolicies/`"),
            "{}",
            d.message
        );
        let d = problem("f/extlClntAppOauthSettings/A.ecaPlcy-meta.xml");
        assert_eq!(d.code, Code::WrongDirectory);
        let d = problem("f/externalClientApps/A.eca");
        assert!(d.help.unwrap().contains("A.eca-meta.xml"));
    }

    #[test]
    fn api_names() {
        assert!(check_api_name("My_App1").is_ok());
        assert!(check_api_name("ns__My_App").is_ok());
        assert!(check_api_name("1App").is_err());
        assert!(check_api_name("My-App").is_err());
        assert!(check_api_name("My__App__x").is_err());
        assert!(check_api_name("MyApp_").is_err());
    }
}
