//! `retrieve` and `listMetadata`: the org's components back as Metadata API files
//! (`spec/metadata.md` §5.3). Files are the stored canonical XML: `consumerKey` is in it and
//! `consumerSecret` never is (the store keeps secrets only encrypted, apart from components).
//! The global OAuth settings name their consumer's key as it is now: a rotation through the
//! Connect API (`PATCH …/staged/{id}`) changes the consumer, not the stored file, and a
//! retrieved file deployed again must carry the key the deploy expects.

use std::collections::HashMap;
use std::io::Write;

use eca_core::{OrgId, UserId};
use eca_metadata::model::Component;
use eca_metadata::project::manifest::{Manifest, ManifestType, PACKAGE_XML};
use eca_metadata::{ApiVersion, MetadataType, catalog, xml};
use eca_store::{Store, StoredComponent};
use serde::{Deserialize, Serialize};

use crate::DeployError;

/// The folder a retrieve zip holds its files under, as Salesforce's unpackaged retrieves do.
pub const RETRIEVE_ROOT: &str = "unpackaged";

/// Salesforce's `FileProperties`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileProperties {
    pub created_by_id: String,
    pub created_by_name: String,
    pub created_date: String,
    pub file_name: String,
    pub full_name: String,
    pub id: String,
    pub last_modified_by_id: String,
    pub last_modified_by_name: String,
    pub last_modified_date: String,
    pub manageable_state: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// A problem with one member of the retrieve manifest (Salesforce's `RetrieveMessage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetrieveMessage {
    pub file_name: String,
    pub problem: String,
}

/// What a retrieve returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveResult {
    /// `unpackaged/package.xml` (the members found) and `unpackaged/<folder>/<name>.<suffix>`.
    pub zip: Vec<u8>,
    pub file_properties: Vec<FileProperties>,
    pub messages: Vec<RetrieveMessage>,
}

/// Retrieves the components a manifest names, explicitly or with `*`.
pub async fn retrieve(
    store: &dyn Store,
    org: &OrgId,
    manifest: &Manifest,
) -> Result<RetrieveResult, DeployError> {
    let asked: Vec<Asked<'_>> = manifest
        .types
        .iter()
        .map(|t| Asked {
            types: t,
            file_name: PACKAGE_XML,
        })
        .collect();
    let version = manifest.version.unwrap_or(ApiVersion::DEFAULT);
    retrieve_asked(store, org, &asked, version, Vec::new()).await
}

/// Members of one type to retrieve, and the file that asked for them (`package.xml`, or a
/// `specificFiles` entry), which messages about them name.
#[derive(Debug)]
pub(crate) struct Asked<'a> {
    pub types: &'a ManifestType,
    pub file_name: &'a str,
}

/// Retrieves what `asked` names; `messages` are problems already found with the request.
pub(crate) async fn retrieve_asked(
    store: &dyn Store,
    org: &OrgId,
    asked: &[Asked<'_>],
    version: ApiVersion,
    mut messages: Vec<RetrieveMessage>,
) -> Result<RetrieveResult, DeployError> {
    let mut found: Vec<(MetadataType, StoredComponent)> = Vec::new();
    let mut whole = std::collections::HashSet::new();
    for Asked {
        types: t,
        file_name,
    } in asked
    {
        let Some(ty) = t.metadata_type() else {
            messages.push(RetrieveMessage {
                file_name: (*file_name).to_owned(),
                problem: format!(
                    "Entity type: '{}' is unknown: OpenECA retrieves External Client App types only",
                    t.name
                ),
            });
            continue;
        };
        // A type asked for whole again (manifests may repeat it) is read once.
        if t.is_wildcard() && whole.insert(ty) {
            for c in store.components_of_type(org, ty.name()).await? {
                found.push((ty, c));
            }
        }
        for member in t.members.iter().filter(|m| *m != "*") {
            let named = ty != MetadataType::OrgSettings || member == catalog::ORG_SETTINGS_NAME;
            match store.component(org, ty.name(), member).await? {
                Some(c) if named => found.push((ty, c)),
                _ => messages.push(RetrieveMessage {
                    file_name: (*file_name).to_owned(),
                    problem: format!(
                        "Entity of type '{}' named '{member}' cannot be found",
                        t.name
                    ),
                }),
            }
        }
    }
    found.sort_by_key(|(ty, c)| (*ty, c.full_name.to_lowercase()));
    found.dedup_by(|a, b| a.0 == b.0 && a.1.full_name.eq_ignore_ascii_case(&b.1.full_name));

    let package = Manifest::from_components(
        found.iter().map(|(ty, c)| (*ty, c.full_name.as_str())),
        version,
    );
    let mut names = UserNames::default();
    let mut file_properties = Vec::new();
    let mut files = vec![(format!("{RETRIEVE_ROOT}/{PACKAGE_XML}"), package.to_xml())];
    for (ty, c) in &found {
        let file_name = format!("{RETRIEVE_ROOT}/{}", mdapi_path(*ty, &c.full_name));
        file_properties.push(names.properties(store, *ty, c, &file_name).await?);
        let xml = match ty {
            MetadataType::GlobalOauthSettings => with_current_key(store, org, c).await?,
            _ => crate::push::readable_xml(*ty, &c.full_name, &c.xml)?,
        };
        // As the requested version has it, so the files deploy again at that version.
        files.push((
            file_name,
            eca_metadata::schema::for_version(*ty, &xml, version),
        ));
    }
    Ok(RetrieveResult {
        zip: zip(&files)?,
        file_properties,
        messages,
    })
}

/// Stored global OAuth settings with `consumerKey` set to their consumer's current key (the
/// file as stored when it already is, or when the consumer is not found).
async fn with_current_key(
    store: &dyn Store,
    org: &OrgId,
    c: &StoredComponent,
) -> Result<String, DeployError> {
    let Some(app) = c.app_name.as_deref() else {
        return Ok(c.xml.clone());
    };
    let Some(consumer) = store.consumers_of_app(org, app).await?.into_iter().next() else {
        return Ok(c.xml.clone());
    };
    let doc = xml::parse_str(&c.xml).map_err(|e| {
        DeployError::Corrupt(format!(
            "stored component {} does not parse: {e}",
            c.full_name
        ))
    })?;
    let Component::GlobalOauthSettings(mut g) =
        Component::from_element(MetadataType::GlobalOauthSettings, &c.full_name, &doc.root)
    else {
        return Ok(c.xml.clone());
    };
    if g.consumer_key.as_deref() == Some(consumer.consumer_key.as_str()) {
        return Ok(c.xml.clone());
    }
    g.consumer_key = Some(consumer.consumer_key);
    // The model keeps what it does not know, so the rest of the file is as stored.
    Ok(Component::GlobalOauthSettings(g).to_xml())
}

/// `listMetadata` for one type: every component of the type in the org.
pub async fn list_metadata(
    store: &dyn Store,
    org: &OrgId,
    ty: MetadataType,
) -> Result<Vec<FileProperties>, DeployError> {
    let mut names = UserNames::default();
    let mut out = Vec::new();
    for c in store.components_of_type(org, ty.name()).await? {
        let file_name = mdapi_path(ty, &c.full_name);
        out.push(names.properties(store, ty, &c, &file_name).await?);
    }
    Ok(out)
}

fn mdapi_path(ty: MetadataType, full_name: &str) -> String {
    format!("{}/{}", ty.directory(), ty.mdapi_file_name(full_name))
}

/// Users' display names, each read once.
#[derive(Debug, Default)]
struct UserNames(HashMap<UserId, String>);

impl UserNames {
    async fn name(&mut self, store: &dyn Store, id: &UserId) -> Result<String, DeployError> {
        if let Some(name) = self.0.get(id) {
            return Ok(name.clone());
        }
        let name = store.user(id).await?.map(|u| u.name()).unwrap_or_default();
        self.0.insert(id.clone(), name.clone());
        Ok(name)
    }

    async fn properties(
        &mut self,
        store: &dyn Store,
        ty: MetadataType,
        c: &StoredComponent,
        file_name: &str,
    ) -> Result<FileProperties, DeployError> {
        Ok(FileProperties {
            created_by_id: c.created_by.to_string(),
            created_by_name: self.name(store, &c.created_by).await?,
            created_date: c.created_at.to_iso8601(),
            file_name: file_name.to_owned(),
            full_name: c.full_name.clone(),
            id: String::new(),
            last_modified_by_id: c.updated_by.to_string(),
            last_modified_by_name: self.name(store, &c.updated_by).await?,
            last_modified_date: c.updated_at.to_iso8601(),
            manageable_state: "unmanaged".to_owned(),
            type_name: ty.manifest_name().to_owned(),
        })
    }
}

fn zip(files: &[(String, String)]) -> Result<Vec<u8>, DeployError> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let fail =
        |e: &dyn std::fmt::Display| DeployError::Internal(format!("writing the retrieve zip: {e}"));
    for (name, text) in files {
        writer
            .start_file(name.as_str(), options)
            .map_err(|e| fail(&e))?;
        writer.write_all(text.as_bytes()).map_err(|e| fail(&e))?;
    }
    Ok(writer.finish().map_err(|e| fail(&e))?.into_inner())
}
