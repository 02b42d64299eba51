//! Reading a SOAP 1.1 request to the Metadata API into a closed [`MetadataCall`], once
//! (`STYLE.md` §7). As for the partner API: DTDs are refused (no entity expansion, no
//! external fetches), the node count is bounded, and the body size is bounded before it gets
//! here. Parameters are matched by local name: jsforce puts them in the metadata namespace,
//! the Salesforce CLI too, and hand-written envelopes often leave them unqualified.

use base64::Engine as _;
use eca_core::Secret;
use eca_deploy::DeployOptions;
use eca_metadata::ApiVersion;
use eca_metadata::project::manifest::{Manifest, ManifestType};

use crate::error::ApiError;
use crate::soap::xml::SOAP_ENV;

/// The Metadata API's namespace (the metadata WSDL's `targetNamespace`).
pub const METADATA_NS: &str = "http://soap.sforce.com/2006/04/metadata";

/// A retrieve names at most this many components; far more than an org of apps has.
const NODES_LIMIT: u32 = 200_000;

/// A parsed Metadata API request.
#[derive(Debug)]
pub struct MetadataCall {
    /// `<SessionHeader><sessionId>` from the envelope header, if any.
    pub session_id: Option<Secret>,
    pub operation: Operation,
}

/// The Metadata API operations OpenECA answers, by the body's first element.
#[derive(Debug)]
pub enum Operation {
    /// `deploy(ZipFile, DeployOptions)`.
    Deploy {
        zip: Vec<u8>,
        options: DeployOptions,
    },
    /// `checkDeployStatus(asyncProcessId, includeDetails)`.
    CheckDeployStatus { id: String, include_details: bool },
    /// `cancelDeploy(String)`.
    CancelDeploy { id: String },
    /// `listMetadata(ListMetadataQuery[] queries, asOfVersion)`: the queried type names.
    ListMetadata { types: Vec<String> },
    /// `describeMetadata(asOfVersion)`.
    DescribeMetadata,
    /// `retrieve(RetrieveRequest)`.
    Retrieve(RetrieveCall),
    /// `readMetadata(type, fullNames[])`.
    ReadMetadata {
        type_name: String,
        full_names: Vec<String>,
    },
    /// `deleteMetadata(type, fullNames[])`.
    DeleteMetadata {
        type_name: String,
        full_names: Vec<String>,
    },
    /// `checkStatus(asyncProcessId[])`: the deprecated generic poll jsforce's `complete()`
    /// still uses for retrieves.
    CheckStatus { ids: Vec<String> },
    /// `checkRetrieveStatus(asyncProcessId, includeZip)`.
    CheckRetrieveStatus { id: String, include_zip: bool },
    /// `createMetadata`, `updateMetadata` or `upsertMetadata(Metadata[])`.
    SaveMetadata {
        kind: SaveKind,
        records: Vec<MetadataRecord>,
    },
}

/// Which of the three saving CRUD calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveKind {
    /// `createMetadata`: every component must be new.
    Create,
    /// `updateMetadata`: every component must exist.
    Update,
    /// `upsertMetadata`: either.
    Upsert,
}

impl SaveKind {
    pub fn operation(self) -> &'static str {
        match self {
            SaveKind::Create => "createMetadata",
            SaveKind::Update => "updateMetadata",
            SaveKind::Upsert => "upsertMetadata",
        }
    }
}

/// One `Metadata` record of a saving CRUD call: `<metadata xsi:type="{type}">` with its
/// `fullName` and fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRecord {
    /// The `xsi:type`, without any namespace prefix.
    pub type_name: String,
    pub full_name: String,
    /// The record as a Metadata API file: the fields (without `fullName`) inside a root
    /// element named after the type, in the metadata namespace.
    pub file: String,
}

/// At most this many records per CRUD call, as Salesforce's limit.
pub const CRUD_RECORDS_LIMIT: usize = 10;

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// A `RetrieveRequest` as sent; the endpoint's version fills in `api_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveCall {
    pub unpackaged: Option<Manifest>,
    pub specific_files: Vec<String>,
    pub package_names: Vec<String>,
    /// `apiVersion` of the request.
    pub api_version: Option<ApiVersion>,
}

/// The most files and packages one retrieve may name: the Metadata API Developer Guide's
/// limit for a retrieve ("You can retrieve up to 10,000 files at once").
pub const RETRIEVE_NAMES_LIMIT: usize = 10_000;

/// The most queries one `listMetadata` call may send (the Metadata API Developer Guide:
/// "You can specify up to three queries per call").
pub const LIST_QUERIES_LIMIT: usize = 3;

/// The most ids one `checkStatus` call may ask about. The guide names no limit for this
/// deprecated call; each id costs a read of its request (a retrieve's with its zip), so the
/// bound is the CRUD calls' ten.
pub const CHECK_STATUS_IDS_LIMIT: usize = 10;

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::Malformed(message.into())
}

/// Parses a Metadata API request body.
pub fn parse(body: &[u8]) -> Result<MetadataCall, ApiError> {
    let source =
        std::str::from_utf8(body).map_err(|_| malformed("The request body is not UTF-8 text"))?;
    // Before the session is checked: shapes the parser would spend quadratic time on are
    // refused by a linear scan first (`eca_metadata::xml_shape`).
    eca_metadata::xml_shape::check(source)
        .map_err(|e| malformed(format!("The request is refused: {e}")))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(source, options)
        .map_err(|e| malformed(format!("The request is not well-formed XML: {e}")))?;
    if crate::soap::xml::too_deep(&doc) {
        return Err(malformed(format!(
            "The request nests elements more than {} levels deep",
            crate::soap::xml::MAX_REQUEST_DEPTH
        )));
    }
    let envelope = doc.root_element();
    if !is(envelope, SOAP_ENV, "Envelope") {
        return Err(malformed(
            "The request is not a SOAP 1.1 envelope: expected {http://schemas.xmlsoap.org/soap/envelope/}Envelope",
        ));
    }
    let header = envelope.children().find(|c| is(*c, SOAP_ENV, "Header"));
    let body = envelope
        .children()
        .find(|c| is(*c, SOAP_ENV, "Body"))
        .ok_or_else(|| malformed("The SOAP envelope has no Body"))?;
    let call = body
        .children()
        .find(roxmltree::Node::is_element)
        .ok_or_else(|| malformed("The SOAP Body is empty"))?;
    let session_id = header
        .and_then(|h| child(h, "SessionHeader"))
        .and_then(|s| child(s, "sessionId"))
        .map(|n| Secret::new(n.text().unwrap_or("").trim()));

    let namespace = call.tag_name().namespace().unwrap_or("");
    let unknown = || ApiError::UnknownOperation {
        namespace: namespace.to_owned(),
        name: call.tag_name().name().to_owned(),
    };
    if namespace != METADATA_NS {
        return Err(unknown());
    }
    let operation = match call.tag_name().name() {
        "deploy" => deploy(call)?,
        "checkDeployStatus" => Operation::CheckDeployStatus {
            id: required(call, "asyncProcessId")?,
            include_details: flag(call, "includeDetails")?.unwrap_or(false),
        },
        "cancelDeploy" => Operation::CancelDeploy {
            id: required(call, "String")
                .or_else(|_| required(call, "asyncProcessId"))
                .or_else(|_| required(call, "id"))?,
        },
        "listMetadata" => {
            let types: Vec<String> = call
                .children()
                .filter(|c| c.is_element() && c.tag_name().name() == "queries")
                .filter_map(|q| text(q, "type"))
                .collect();
            // The Metadata API Developer Guide, listMetadata(): up to three queries per call.
            if types.len() > LIST_QUERIES_LIMIT {
                return Err(malformed(format!(
                    "listMetadata: at most {LIST_QUERIES_LIMIT} queries may be sent in one call"
                )));
            }
            Operation::ListMetadata { types }
        }
        "describeMetadata" => Operation::DescribeMetadata,
        "retrieve" => retrieve(call)?,
        "readMetadata" => Operation::ReadMetadata {
            type_name: required(call, "type")?,
            full_names: all(call, "fullNames"),
        },
        "deleteMetadata" => Operation::DeleteMetadata {
            type_name: required(call, "type")?,
            full_names: all(call, "fullNames"),
        },
        "checkStatus" => {
            let ids: Vec<String> = call
                .children()
                .filter(|c| c.is_element() && c.tag_name().name() == "asyncProcessId")
                .map(|c| c.text().unwrap_or("").trim().to_owned())
                .collect();
            if ids.len() > CHECK_STATUS_IDS_LIMIT {
                return Err(malformed(format!(
                    "checkStatus: at most {CHECK_STATUS_IDS_LIMIT} ids may be sent in one call"
                )));
            }
            Operation::CheckStatus { ids }
        }
        // Not done: a rename of an ECA component touches what names it (satellites name
        // their app, policies their settings, the consumer its global settings), and the
        // Metadata API Developer Guide says nothing of how Salesforce renames them.
        "renameMetadata" => {
            return Err(ApiError::request(
                crate::error::RequestCode::InvalidTypeForOperation,
                "renameMetadata is not supported for External Client App types: deploy the \
                 component under its new name, then delete the old one",
            ));
        }
        "createMetadata" => save(call, SaveKind::Create)?,
        "updateMetadata" => save(call, SaveKind::Update)?,
        "upsertMetadata" => save(call, SaveKind::Upsert)?,
        "checkRetrieveStatus" => Operation::CheckRetrieveStatus {
            id: required(call, "asyncProcessId")?,
            include_zip: flag(call, "includeZip")?.unwrap_or(true),
        },
        _ => return Err(unknown()),
    };
    Ok(MetadataCall {
        session_id,
        operation,
    })
}

/// Every field of the Metadata API's `DeployOptions` (the Metadata API Developer Guide,
/// "deploy()"). Those a deploy of ECA metadata has no use for (tests, retrieves, packages)
/// are accepted and ignored; any other name is refused, since a misspelled `checkOnly` would
/// otherwise turn a validation into a real deploy.
pub const DEPLOY_OPTIONS: [&str; 11] = [
    "allowMissingFiles",
    "autoUpdatePackage",
    "checkOnly",
    "ignoreWarnings",
    "performRetrieve",
    "purgeOnDelete",
    "rollbackOnError",
    "runAllTests",
    "runTests",
    "singlePackage",
    "testLevel",
];

/// Refuses a `deploy` call whose elements are not exactly the WSDL's: `ZipFile` and an
/// optional `DeployOptions` once each, and in it only [`DEPLOY_OPTIONS`], each once
/// (`runTests`, a list, may repeat).
fn check_deploy_shape(call: roxmltree::Node<'_, '_>) -> Result<(), ApiError> {
    let mut seen = std::collections::HashSet::new();
    for c in call.children().filter(roxmltree::Node::is_element) {
        let name = c.tag_name().name();
        if name != "ZipFile" && name != "DeployOptions" {
            return Err(malformed(format!(
                "deploy: unexpected element `{name}` (the call takes ZipFile and DeployOptions)"
            )));
        }
        if !seen.insert(name) {
            return Err(malformed(format!("deploy: `{name}` is given twice")));
        }
        if name != "DeployOptions" {
            continue;
        }
        let mut options = std::collections::HashSet::new();
        for o in c.children().filter(roxmltree::Node::is_element) {
            let option = o.tag_name().name();
            if !DEPLOY_OPTIONS.contains(&option) {
                return Err(malformed(format!(
                    "DeployOptions: unknown option `{option}` (options are {})",
                    DEPLOY_OPTIONS.join(", ")
                )));
            }
            if option != "runTests" && !options.insert(option) {
                return Err(malformed(format!(
                    "DeployOptions: `{option}` is given twice"
                )));
            }
        }
    }
    Ok(())
}

fn deploy(call: roxmltree::Node<'_, '_>) -> Result<Operation, ApiError> {
    check_deploy_shape(call)?;
    let encoded = child(call, "ZipFile")
        .ok_or_else(|| malformed("deploy: the ZipFile element is missing"))?
        .text()
        .unwrap_or("");
    let compact: String = encoded.split_ascii_whitespace().collect();
    let zip = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| malformed("deploy: ZipFile is not valid base64"))?;
    let mut options = DeployOptions::default();
    if let Some(o) = child(call, "DeployOptions") {
        let set = |name: &str, field: &mut bool| -> Result<(), ApiError> {
            if let Some(v) = option_flag(o, name)? {
                *field = v;
            }
            Ok(())
        };
        set("checkOnly", &mut options.check_only)?;
        set("rollbackOnError", &mut options.rollback_on_error)?;
        set("ignoreWarnings", &mut options.ignore_warnings)?;
        set("singlePackage", &mut options.single_package)?;
        set("purgeOnDelete", &mut options.purge_on_delete)?;
        set("allowMissingFiles", &mut options.allow_missing_files)?;
    }
    Ok(Operation::Deploy { zip, options })
}

/// `retrieve(RetrieveRequest)`: `unpackaged` is read like a `package.xml`; `specificFiles`
/// and `packageNames` are kept as sent (the engine says what they name).
fn retrieve(call: roxmltree::Node<'_, '_>) -> Result<Operation, ApiError> {
    // The WSDL names the parameter `retrieveRequest`; jsforce sends it as `request`.
    let request = child(call, "retrieveRequest")
        .or_else(|| child(call, "request"))
        .ok_or_else(|| malformed("retrieve: the retrieveRequest element is missing"))?;
    let unpackaged = child(request, "unpackaged").map(|unpackaged| {
        let mut manifest = Manifest::default();
        for types in unpackaged
            .children()
            .filter(|c| c.is_element() && c.tag_name().name() == "types")
        {
            manifest.types.push(ManifestType {
                name: text(types, "name").unwrap_or_default(),
                members: types
                    .children()
                    .filter(|c| c.is_element() && c.tag_name().name() == "members")
                    .map(|m| m.text().unwrap_or("").trim().to_owned())
                    .collect(),
                span: Default::default(),
            });
        }
        manifest.version = text(unpackaged, "version").and_then(|v| v.parse().ok());
        manifest
    });
    let specific_files = all(request, "specificFiles");
    let package_names = all(request, "packageNames");
    if unpackaged.is_none() && specific_files.is_empty() && package_names.is_empty() {
        return Err(malformed(
            "retrieve: the retrieveRequest names nothing; send unpackaged, specificFiles or packageNames",
        ));
    }
    let members = unpackaged.as_ref().map_or(0, |m| {
        m.types
            .iter()
            .map(|t| t.members.len().max(1))
            .sum::<usize>()
    });
    if specific_files.len() + package_names.len() + members > RETRIEVE_NAMES_LIMIT {
        return Err(malformed(format!(
            "retrieve: at most {RETRIEVE_NAMES_LIMIT} unpackaged members, specificFiles and packageNames may be named at once"
        )));
    }
    let api_version = text(request, "apiVersion").and_then(|v| v.parse::<ApiVersion>().ok());
    Ok(Operation::Retrieve(RetrieveCall {
        unpackaged,
        specific_files,
        package_names,
        api_version,
    }))
}

/// `createMetadata` / `updateMetadata` / `upsertMetadata(Metadata[] metadata)`.
fn save(call: roxmltree::Node<'_, '_>, kind: SaveKind) -> Result<Operation, ApiError> {
    let op = kind.operation();
    let records: Vec<_> = call
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() == "metadata")
        .collect();
    if records.is_empty() {
        return Err(malformed(format!("{op}: no metadata element")));
    }
    if records.len() > CRUD_RECORDS_LIMIT {
        return Err(malformed(format!(
            "{op}: at most {CRUD_RECORDS_LIMIT} metadata records per call"
        )));
    }
    let records = records
        .into_iter()
        .enumerate()
        .map(|(i, node)| record(node).map_err(|m| malformed(format!("{op}: metadata[{i}]: {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Operation::SaveMetadata { kind, records })
}

fn record(node: roxmltree::Node<'_, '_>) -> Result<MetadataRecord, String> {
    let type_name = node
        .attribute((XSI, "type"))
        .map(|t| t.rsplit(':').next().unwrap_or(t).trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or("the xsi:type attribute is missing (it names the metadata type)")?;
    let full_name = text(node, "fullName").ok_or("the fullName element is missing")?;
    if type_name.contains(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
        return Err(format!("`{type_name}` is not a metadata type name"));
    }
    let mut file = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{type_name} xmlns=\"{METADATA_NS}\">"
    );
    for field in node
        .children()
        .filter(|c| c.is_element() && c.tag_name().name() != "fullName")
    {
        write_element(field, &mut file);
    }
    file.push_str(&format!("</{type_name}>\n"));
    Ok(MetadataRecord {
        type_name,
        full_name,
        file,
    })
}

/// Writes an element of a record again by its local name alone, so that it means the same
/// outside the envelope whatever prefixes the envelope used. Metadata fields are text or
/// nested elements; attributes (such as `xsi:nil`) carry nothing a file could hold.
fn write_element(node: roxmltree::Node<'_, '_>, out: &mut String) {
    let name = node.tag_name().name();
    out.push('<');
    out.push_str(name);
    out.push('>');
    if node.children().any(|c| c.is_element()) {
        for child in node.children().filter(roxmltree::Node::is_element) {
            write_element(child, out);
        }
    } else {
        out.push_str(&crate::soap::xml::escape(node.text().unwrap_or("")));
    }
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn is(node: roxmltree::Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(namespace)
        && node.tag_name().name() == name
}

fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The trimmed text of a child element, when present and not empty.
fn text(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name)
        .map(|n| n.text().unwrap_or("").trim().to_owned())
        .filter(|t| !t.is_empty())
}

/// The trimmed texts of every child element with this name.
fn all(node: roxmltree::Node<'_, '_>, name: &str) -> Vec<String> {
    node.children()
        .filter(|c| c.is_element() && c.tag_name().name() == name)
        .map(|c| c.text().unwrap_or("").trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn required(node: roxmltree::Node<'_, '_>, name: &str) -> Result<String, ApiError> {
    text(node, name).ok_or_else(|| {
        malformed(format!(
            "{}: the {name} element is missing",
            node.tag_name().name()
        ))
    })
}

/// A deploy option, an `xsd:boolean`: absent or `xsi:nil` is not sent; present, it must be
/// `true`/`false`/`1`/`0` (an empty `<checkOnly/>` is refused, not read as false).
fn option_flag(node: roxmltree::Node<'_, '_>, name: &str) -> Result<Option<bool>, ApiError> {
    let Some(element) = child(node, name) else {
        return Ok(None);
    };
    if element.attribute((XSI, "nil")) == Some("true") {
        return Ok(None);
    }
    match element.text().unwrap_or("").trim() {
        "true" | "1" => Ok(Some(true)),
        "false" | "0" => Ok(Some(false)),
        other => Err(malformed(format!(
            "{name}: `{other}` is not a boolean (true or false)"
        ))),
    }
}

/// An `xsd:boolean` child: `true`/`false`/`1`/`0`.
fn flag(node: roxmltree::Node<'_, '_>, name: &str) -> Result<Option<bool>, ApiError> {
    match text(node, name).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(other) => Err(malformed(format!(
            "{name}: `{other}` is not a boolean (true or false)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(body: &str) -> String {
        format!(
            "<soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\" xmlns:met=\"{METADATA_NS}\">\
             <soapenv:Header><met:SessionHeader><met:sessionId>00D!x</met:sessionId></met:SessionHeader>\
             </soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
        )
    }

    /// Found by review: 150,000 nested elements inside a `createMetadata` record overflowed
    /// the stack of the recursive record writer and aborted the server, before any session was
    /// checked. A debug build's smaller frames still overflow at this depth.
    #[test]
    fn deep_nesting_is_refused_before_anything_walks_it() {
        let depth = 150_000;
        let body = format!(
            "<met:createMetadata><met:metadata xsi:type=\"met:ExternalClientApplication\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><met:fullName>A</met:fullName>\
             {}{}</met:metadata></met:createMetadata>",
            "<a>".repeat(depth),
            "</a>".repeat(depth)
        );
        match parse(envelope(&body).as_bytes()) {
            Err(ApiError::Malformed(m)) => assert!(m.contains("64 levels"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A real record's depth is fine.
        let body = "<met:createMetadata><met:metadata xsi:type=\"met:ExternalClientApplication\" \
             xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><met:fullName>A</met:fullName>\
             <met:label>A</met:label></met:metadata></met:createMetadata>";
        assert!(parse(envelope(body).as_bytes()).is_ok());
    }

    /// Found by review: repeated queries and manifest members had no bound, and each one read
    /// a whole type from the store.
    #[test]
    fn list_queries_and_retrieve_members_are_bounded() {
        let query = "<met:queries><met:type>ExternalClientApplication</met:type></met:queries>";
        let list = |n: usize| format!("<met:listMetadata>{}</met:listMetadata>", query.repeat(n));
        assert!(parse(envelope(&list(3)).as_bytes()).is_ok());
        match parse(envelope(&list(4)).as_bytes()) {
            Err(ApiError::Malformed(m)) => assert!(m.contains("at most 3 queries"), "{m}"),
            other => panic!("{other:?}"),
        }
        let retrieve = |n: usize| {
            format!(
                "<met:retrieve><met:retrieveRequest><met:unpackaged><met:types>{}\
                 <met:name>ExternalClientApplication</met:name></met:types></met:unpackaged>\
                 </met:retrieveRequest></met:retrieve>",
                "<met:members>*</met:members>".repeat(n)
            )
        };
        assert!(parse(envelope(&retrieve(RETRIEVE_NAMES_LIMIT)).as_bytes()).is_ok());
        match parse(envelope(&retrieve(RETRIEVE_NAMES_LIMIT + 1)).as_bytes()) {
            Err(ApiError::Malformed(m)) => assert!(m.contains("unpackaged members"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_deploy_as_the_salesforce_cli_sends_it() {
        let call = parse(
            envelope(
                "<met:deploy><met:ZipFile>UEsF\nBg==</met:ZipFile><met:DeployOptions>\
                 <met:rollbackOnError>true</met:rollbackOnError><met:ignoreWarnings>false</met:ignoreWarnings>\
                 <met:checkOnly>true</met:checkOnly><met:singlePackage>true</met:singlePackage>\
                 </met:DeployOptions></met:deploy>",
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(call.session_id.unwrap().expose(), "00D!x");
        match call.operation {
            Operation::Deploy { zip, options } => {
                assert_eq!(zip, b"PK\x05\x06");
                assert!(options.check_only && options.single_package && options.rollback_on_error);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_retrieve_and_status_calls() {
        let call = parse(
            envelope(
                "<retrieve xmlns=\"http://soap.sforce.com/2006/04/metadata\"><retrieveRequest>\
                 <apiVersion>66.0</apiVersion><unpackaged><types><members>*</members>\
                 <name>ExternalClientApplication</name></types></unpackaged></retrieveRequest></retrieve>",
            )
            .as_bytes(),
        )
        .unwrap();
        match call.operation {
            Operation::Retrieve(r) => {
                let manifest = r.unpackaged.unwrap();
                assert_eq!(manifest.types[0].name, "ExternalClientApplication");
                assert!(manifest.types[0].is_wildcard());
                assert_eq!(r.api_version, Some(ApiVersion::new(66)));
                assert!(r.specific_files.is_empty() && r.package_names.is_empty());
            }
            other => panic!("{other:?}"),
        }
        let call = parse(
            envelope(
                "<met:retrieve><met:retrieveRequest><met:packageNames>Pkg</met:packageNames>\
                 <met:singlePackage>true</met:singlePackage>\
                 <met:specificFiles>externalClientApps/A.eca</met:specificFiles>\
                 <met:specificFiles>unpackaged/externalClientApps/B.eca</met:specificFiles>\
                 </met:retrieveRequest></met:retrieve>",
            )
            .as_bytes(),
        )
        .unwrap();
        let Operation::Retrieve(r) = call.operation else {
            panic!("{:?}", call.operation)
        };
        assert_eq!(
            r,
            RetrieveCall {
                unpackaged: None,
                specific_files: vec![
                    "externalClientApps/A.eca".to_owned(),
                    "unpackaged/externalClientApps/B.eca".to_owned()
                ],
                package_names: vec!["Pkg".to_owned()],
                api_version: None,
            }
        );
        let call = parse(
            envelope("<met:checkDeployStatus><met:asyncProcessId>0Af1</met:asyncProcessId><met:includeDetails>true</met:includeDetails></met:checkDeployStatus>").as_bytes(),
        )
        .unwrap();
        assert!(matches!(
            call.operation,
            Operation::CheckDeployStatus { ref id, include_details: true } if id == "0Af1"
        ));
    }

    #[test]
    fn reads_metadata_records_whatever_their_prefixes() {
        let call = parse(
            envelope(
                "<met:upsertMetadata><met:metadata xsi:type=\"met:ExternalClientApplication\" \
                 xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
                 <met:fullName>Shop</met:fullName><met:label>A &amp; B</met:label>\
                 <met:contactEmail>x@example.com</met:contactEmail></met:metadata>\
                 <metadata xmlns=\"http://soap.sforce.com/2006/04/metadata\" \
                 xmlns:x=\"http://www.w3.org/2001/XMLSchema-instance\" x:type=\"ExtlClntAppOauthSettings\">\
                 <fullName>Shop_oauth</fullName><customAttributes><formula>User.Email</formula>\
                 <key>mail</key></customAttributes></metadata></met:upsertMetadata>",
            )
            .as_bytes(),
        )
        .unwrap();
        let Operation::SaveMetadata { kind, records } = call.operation else {
            panic!("{:?}", call.operation)
        };
        assert_eq!(kind, SaveKind::Upsert);
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].type_name.as_str(), records[0].full_name.as_str()),
            ("ExternalClientApplication", "Shop")
        );
        assert_eq!(
            records[0].file,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExternalClientApplication \
             xmlns=\"http://soap.sforce.com/2006/04/metadata\"><label>A &amp; B</label>\
             <contactEmail>x@example.com</contactEmail></ExternalClientApplication>\n"
        );
        assert!(records[1].file.contains(
            "<customAttributes><formula>User.Email</formula><key>mail</key></customAttributes>"
        ));

        for (body, expected) in [
            ("<met:createMetadata/>", "no metadata element"),
            (
                "<met:createMetadata><met:metadata><met:fullName>A</met:fullName></met:metadata></met:createMetadata>",
                "xsi:type",
            ),
            (
                "<met:updateMetadata><met:metadata xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"ExternalClientApplication\"/></met:updateMetadata>",
                "fullName",
            ),
        ] {
            assert!(
                matches!(parse(envelope(body).as_bytes()), Err(ApiError::Malformed(ref m)) if m.contains(expected)),
                "{body}"
            );
        }
        let many = "<met:metadata xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"ExternalClientApplication\"><met:fullName>A</met:fullName></met:metadata>".repeat(CRUD_RECORDS_LIMIT + 1);
        assert!(matches!(
            parse(envelope(&format!("<met:createMetadata>{many}</met:createMetadata>")).as_bytes()),
            Err(ApiError::Malformed(m)) if m.contains("at most")
        ));
    }

    #[test]
    fn refuses_bad_calls() {
        for body in ["not xml", "<!DOCTYPE x [<!ENTITY e \"boom\">]><x>&e;</x>"] {
            assert!(
                matches!(parse(body.as_bytes()), Err(ApiError::Malformed(_))),
                "{body}"
            );
        }
        assert!(matches!(
            parse(envelope("<met:deploy><met:ZipFile>!!</met:ZipFile></met:deploy>").as_bytes()),
            Err(ApiError::Malformed(m)) if m.contains("base64")
        ));
        assert!(matches!(
            parse(envelope("<met:retrieve><met:retrieveRequest/></met:retrieve>").as_bytes()),
            Err(ApiError::Malformed(m)) if m.contains("names nothing")
        ));
        let many = "<met:packageNames>P</met:packageNames>".repeat(RETRIEVE_NAMES_LIMIT + 1);
        assert!(matches!(
            parse(envelope(&format!("<met:retrieve><met:retrieveRequest>{many}</met:retrieveRequest></met:retrieve>")).as_bytes()),
            Err(ApiError::Malformed(m)) if m.contains("at most")
        ));
        let ids = "<met:asyncProcessId>09S000000000001AAA</met:asyncProcessId>";
        assert!(matches!(
            parse(
                envelope(&format!(
                    "<met:checkStatus>{}</met:checkStatus>",
                    ids.repeat(CHECK_STATUS_IDS_LIMIT)
                ))
                .as_bytes()
            ),
            Ok(MetadataCall {
                operation: Operation::CheckStatus { .. },
                ..
            })
        ));
        assert!(matches!(
            parse(envelope(&format!("<met:checkStatus>{}</met:checkStatus>", ids.repeat(CHECK_STATUS_IDS_LIMIT + 1))).as_bytes()),
            Err(ApiError::Malformed(m)) if m.contains("at most 10 ids")
        ));
        assert!(matches!(
            parse(envelope("<met:renameMetadata><met:type>ExternalClientApplication</met:type></met:renameMetadata>").as_bytes()),
            Err(e @ ApiError::Request { .. }) if e.public_message().contains("renameMetadata is not supported")
        ));
        assert!(matches!(
            parse(envelope("<met:readMetadataX/>").as_bytes()),
            Err(ApiError::UnknownOperation { .. })
        ));
        assert!(matches!(
            parse(envelope("<q xmlns=\"urn:partner.soap.sforce.com\"/>").as_bytes()),
            Err(ApiError::UnknownOperation { .. })
        ));
    }
}
