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
    /// `retrieve(RetrieveRequest)` with an `unpackaged` manifest.
    Retrieve { manifest: Manifest },
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
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::Malformed(message.into())
}

/// Parses a Metadata API request body.
pub fn parse(body: &[u8]) -> Result<MetadataCall, ApiError> {
    let source =
        std::str::from_utf8(body).map_err(|_| malformed("The request body is not UTF-8 text"))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: NODES_LIMIT,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(source, options)
        .map_err(|e| malformed(format!("The request is not well-formed XML: {e}")))?;
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
        "listMetadata" => Operation::ListMetadata {
            types: call
                .children()
                .filter(|c| c.is_element() && c.tag_name().name() == "queries")
                .filter_map(|q| text(q, "type"))
                .collect(),
        },
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
        "checkStatus" => Operation::CheckStatus {
            ids: call
                .children()
                .filter(|c| c.is_element() && c.tag_name().name() == "asyncProcessId")
                .map(|c| c.text().unwrap_or("").trim().to_owned())
                .collect(),
        },
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

fn deploy(call: roxmltree::Node<'_, '_>) -> Result<Operation, ApiError> {
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
            if let Some(v) = flag(o, name)? {
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
/// and `packageNames` name nothing OpenECA stores, so they are refused.
fn retrieve(call: roxmltree::Node<'_, '_>) -> Result<Operation, ApiError> {
    // The WSDL names the parameter `retrieveRequest`; jsforce sends it as `request`.
    let request = child(call, "retrieveRequest")
        .or_else(|| child(call, "request"))
        .ok_or_else(|| malformed("retrieve: the retrieveRequest element is missing"))?;
    let unpackaged = child(request, "unpackaged").ok_or_else(|| {
        malformed("retrieve: OpenECA retrieves an unpackaged manifest only; send retrieveRequest/unpackaged")
    })?;
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
    let version = text(unpackaged, "version").or_else(|| text(request, "apiVersion"));
    manifest.version = version.and_then(|v| v.parse::<ApiVersion>().ok());
    Ok(Operation::Retrieve { manifest })
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
            Operation::Retrieve { manifest } => {
                assert_eq!(manifest.types[0].name, "ExternalClientApplication");
                assert!(manifest.types[0].is_wildcard());
                assert_eq!(manifest.version, Some(ApiVersion::new(66)));
            }
            other => panic!("{other:?}"),
        }
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
            parse(envelope("<met:readMetadataX/>").as_bytes()),
            Err(ApiError::UnknownOperation { .. })
        ));
        assert!(matches!(
            parse(envelope("<q xmlns=\"urn:partner.soap.sforce.com\"/>").as_bytes()),
            Err(ApiError::UnknownOperation { .. })
        ));
    }
}
