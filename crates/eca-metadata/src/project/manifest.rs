//! `package.xml` and the destructive-change manifests (`destructiveChanges.xml`,
//! `destructiveChangesPre.xml`, `destructiveChangesPost.xml`): read with positions, written in
//! canonical form (types sorted by name, members sorted, version last).

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::MetadataType;
use crate::diagnostic::{Code, Diagnostic};
use crate::version::ApiVersion;
use crate::xml::{self, Element, Span};

pub const PACKAGE_XML: &str = "package.xml";

/// Which manifest a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ManifestKind {
    Package,
    DestructiveChanges,
    DestructiveChangesPre,
    DestructiveChangesPost,
}

impl ManifestKind {
    pub fn file_name(self) -> &'static str {
        match self {
            ManifestKind::Package => PACKAGE_XML,
            ManifestKind::DestructiveChanges => "destructiveChanges.xml",
            ManifestKind::DestructiveChangesPre => "destructiveChangesPre.xml",
            ManifestKind::DestructiveChangesPost => "destructiveChangesPost.xml",
        }
    }

    /// The manifest a root-level file is, if any.
    pub fn from_path(rel: &Path) -> Option<Self> {
        if rel.components().count() != 1 {
            return None;
        }
        let name = rel.file_name()?.to_str()?;
        [
            ManifestKind::Package,
            ManifestKind::DestructiveChanges,
            ManifestKind::DestructiveChangesPre,
            ManifestKind::DestructiveChangesPost,
        ]
        .into_iter()
        .find(|k| k.file_name() == name)
    }

    pub fn is_destructive(self) -> bool {
        self != ManifestKind::Package
    }
}

/// One `<types>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestType {
    /// The type name as written (`ExternalClientApplication`, `Settings`, `ApexClass`...).
    pub name: String,
    pub members: Vec<String>,
    pub span: Span,
}

impl ManifestType {
    /// The ECA type, when the name is one of ours.
    pub fn metadata_type(&self) -> Option<MetadataType> {
        MetadataType::from_name(&self.name)
    }

    /// Whether the manifest asks for every member (`*`).
    pub fn is_wildcard(&self) -> bool {
        self.members.iter().any(|m| m == "*")
    }
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    pub types: Vec<ManifestType>,
    pub version: Option<ApiVersion>,
}

impl Manifest {
    /// Parses a manifest; problems are returned alongside whatever could be read.
    pub fn parse(bytes: &[u8], file: &Path) -> (Manifest, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut manifest = Manifest::default();
        let doc = match xml::parse_bytes(bytes) {
            Ok(doc) => doc,
            Err(e) => {
                diagnostics.push(Diagnostic::new(
                    Code::Manifest,
                    file,
                    e.span(),
                    e.to_string(),
                ));
                return (manifest, diagnostics);
            }
        };
        let root = &doc.root;
        if root.name != "Package" {
            diagnostics.push(
                Diagnostic::new(
                    Code::Manifest,
                    file,
                    root.span,
                    format!("root element is <{}>, expected <Package>", root.name),
                )
                .with_help(format!(
                    "a manifest is <Package xmlns=\"{}\">",
                    xml::METADATA_NS
                )),
            );
            return (manifest, diagnostics);
        }
        for child in &root.children {
            match child.name.as_str() {
                "types" => {
                    let mut entry = ManifestType {
                        name: String::new(),
                        members: Vec::new(),
                        span: child.span,
                    };
                    for part in &child.children {
                        match part.name.as_str() {
                            "members" => entry.members.push(part.text.trimmed().to_owned()),
                            "name" => entry.name = part.text.trimmed().to_owned(),
                            other => diagnostics.push(
                                Diagnostic::new(
                                    Code::Manifest,
                                    file,
                                    part.span,
                                    format!("unknown element <{other}> in <types>"),
                                )
                                .with_help("<types> holds <members> and one <name>"),
                            ),
                        }
                    }
                    if entry.name.is_empty() {
                        diagnostics.push(Diagnostic::new(
                            Code::Manifest,
                            file,
                            child.span,
                            "<types> has no <name>",
                        ));
                    }
                    manifest.types.push(entry);
                }
                "version" => match child.text.trimmed().parse::<ApiVersion>() {
                    Ok(v) => manifest.version = Some(v),
                    Err(e) => diagnostics.push(Diagnostic::new(
                        Code::Manifest,
                        file,
                        child.text.span,
                        e.to_string(),
                    )),
                },
                "fullName" | "description" | "apiAccessLevel" | "namespacePrefix"
                | "postInstallClass" | "uninstallClass" | "setupWeblink" => {}
                other => diagnostics.push(Diagnostic::new(
                    Code::Manifest,
                    file,
                    child.span,
                    format!("unknown element <{other}> in <Package>"),
                )),
            }
        }
        (manifest, diagnostics)
    }

    /// A manifest listing the given components, grouped by type.
    pub fn from_components<'a, I>(components: I, version: ApiVersion) -> Manifest
    where
        I: IntoIterator<Item = (MetadataType, &'a str)>,
    {
        let mut by_type: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for (ty, name) in components {
            by_type
                .entry(ty.manifest_name())
                .or_default()
                .push(name.to_owned());
        }
        Manifest {
            types: by_type
                .into_iter()
                .map(|(name, mut members)| {
                    members.sort();
                    members.dedup();
                    ManifestType {
                        name: name.to_owned(),
                        members,
                        span: Span::default(),
                    }
                })
                .collect(),
            version: Some(version),
        }
    }

    /// Whether the manifest names the component (explicitly or by `*`).
    pub fn includes(&self, ty: MetadataType, full_name: &str) -> bool {
        self.types.iter().any(|t| {
            t.metadata_type() == Some(ty)
                && (t.is_wildcard() || t.members.iter().any(|m| m == full_name))
        })
    }

    /// The canonical XML text.
    pub fn to_xml(&self) -> String {
        let mut types: Vec<&ManifestType> = self.types.iter().collect();
        types.sort_by(|a, b| a.name.cmp(&b.name));
        let mut children: Vec<Element> = types
            .into_iter()
            .map(|t| {
                let mut members = t.members.clone();
                members.sort();
                let mut parts: Vec<Element> = members
                    .into_iter()
                    .map(|m| Element::leaf("members", m))
                    .collect();
                parts.push(Element::leaf("name", t.name.clone()));
                Element::node("types", parts)
            })
            .collect();
        if let Some(v) = self.version {
            children.push(Element::leaf("version", v.to_string()));
        }
        xml::write_canonical(&Element::node("Package", children))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_the_spec_manifest() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types><members>*</members><name>ExternalClientApplication</name></types>
    <types><members>SOLU_CI_CD_plcy</members><name>ExtlClntAppConfigurablePolicies</name></types>
    <types><members>X</members><name>PermissionSet</name></types>
    <version>65.0</version>
</Package>"#;
        let (m, d) = Manifest::parse(text.as_bytes(), Path::new("package.xml"));
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(m.version, Some(ApiVersion::new(65)));
        assert!(m.includes(MetadataType::ExternalClientApplication, "Any"));
        assert!(m.includes(MetadataType::AppPolicies, "SOLU_CI_CD_plcy"));
        assert!(!m.includes(MetadataType::AppPolicies, "Other"));
        insta::assert_snapshot!(m.to_xml(), @r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <Package xmlns="http://soap.sforce.com/2006/04/metadata">
            <types>
                <members>*</members>
                <name>ExternalClientApplication</name>
            </types>
            <types>
                <members>SOLU_CI_CD_plcy</members>
                <name>ExtlClntAppConfigurablePolicies</name>
            </types>
            <types>
                <members>X</members>
                <name>PermissionSet</name>
            </types>
            <version>65.0</version>
        </Package>
        "#);
        let (again, _) = Manifest::parse(m.to_xml().as_bytes(), Path::new("package.xml"));
        assert_eq!(again.to_xml(), m.to_xml());
    }

    #[test]
    fn kinds_from_paths() {
        assert_eq!(
            ManifestKind::from_path(Path::new("destructiveChangesPost.xml")),
            Some(ManifestKind::DestructiveChangesPost)
        );
        assert_eq!(ManifestKind::from_path(Path::new("x/package.xml")), None);
    }
}
