//! Metadata API responses as Salesforce's metadata WSDL shapes them: a `soapenv` envelope
//! whose body's default namespace is `http://soap.sforce.com/2006/04/metadata`, elements in
//! the WSDL's sequence order (jsforce and the Salesforce CLI read them by name, but other SOAP
//! stacks validate order), and absent optional values left out, as Salesforce does.

use base64::Engine as _;
use eca_deploy::{DeployMessage, DeployResult, FileProperties, RetrieveResult};
use eca_metadata::MetadataType;
use eca_store::DeployStatus;

use super::envelope::METADATA_NS;
use crate::soap::xml::{SOAP_ENV, XSI_NS, escape};

/// Builds the elements of a response body.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    fn text(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        self.out.push_str(&escape(text));
        self.close(name)
    }

    fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.text(name, if value { "true" } else { "false" })
    }

    fn num(&mut self, name: &str, value: u32) -> &mut Self {
        self.text(name, &value.to_string())
    }

    /// The element only when there is a value.
    fn opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.text(name, v);
        }
        self
    }

    /// Text already escaped or well-formed XML, as it is.
    pub(crate) fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }

    /// The body wrapped in an envelope whose default namespace is the metadata namespace.
    pub fn into_envelope(self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soapenv:Envelope xmlns:soapenv=\"{SOAP_ENV}\" \
             xmlns=\"{METADATA_NS}\" xmlns:xsi=\"{XSI_NS}\"><soapenv:Body>{}</soapenv:Body></soapenv:Envelope>",
            self.out
        )
    }
}

/// `deployResponse` and `retrieveResponse`: an `AsyncResult` that is not done.
pub fn async_result(operation: &str, id: &str) -> String {
    let mut w = Writer::default();
    let response = format!("{operation}Response");
    w.open(&response)
        .open("result")
        .bool("done", false)
        .text("id", id)
        .text("state", "Queued")
        .close("result")
        .close(&response);
    w.into_envelope()
}

/// The `state` of an `AsyncResult` (metadata WSDL `AsyncRequestState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsyncState {
    Queued,
    InProgress,
    Completed,
    Error,
}

impl AsyncState {
    fn as_str(self) -> &'static str {
        match self {
            AsyncState::Queued => "Queued",
            AsyncState::InProgress => "InProgress",
            AsyncState::Completed => "Completed",
            AsyncState::Error => "Error",
        }
    }
}

/// The `AsyncResult` state of a deploy.
pub fn async_state(r: &DeployResult) -> AsyncState {
    match r.status {
        DeployStatus::Queued => AsyncState::Queued,
        DeployStatus::InProgress | DeployStatus::Canceling => AsyncState::InProgress,
        _ if r.done && r.error_message.is_some() => AsyncState::Error,
        _ => AsyncState::Completed,
    }
}

/// `checkStatusResponse`: one `AsyncResult` per id.
pub fn check_status(states: &[(String, AsyncState)]) -> String {
    let mut w = Writer::default();
    w.open("checkStatusResponse");
    for (id, state) in states {
        w.open("result")
            .bool(
                "done",
                matches!(state, AsyncState::Completed | AsyncState::Error),
            )
            .text("id", id)
            .text("state", state.as_str())
            .close("result");
    }
    w.close("checkStatusResponse");
    w.into_envelope()
}

/// `checkDeployStatusResponse`: the `DeployResult`, with `details` when asked for.
pub fn check_deploy_status(result: &DeployResult, include_details: bool) -> String {
    let mut w = Writer::default();
    w.open("checkDeployStatusResponse").open("result");
    deploy_result(&mut w, result, include_details);
    w.close("result").close("checkDeployStatusResponse");
    w.into_envelope()
}

/// `cancelDeployResponse`: a `CancelDeployResult`; `done` is false while a deploy in
/// progress is still `Canceling`.
pub fn cancel_deploy(result: &DeployResult) -> String {
    let mut w = Writer::default();
    w.open("cancelDeployResponse")
        .open("result")
        .bool("done", result.done)
        .text("id", &result.id)
        .close("result")
        .close("cancelDeployResponse");
    w.into_envelope()
}

/// `DeployResult` in the WSDL's order.
fn deploy_result(w: &mut Writer, r: &DeployResult, include_details: bool) {
    w.opt("canceledBy", r.canceled_by.as_deref())
        .opt("canceledByName", r.canceled_by_name.as_deref())
        .bool("checkOnly", r.check_only)
        .opt("completedDate", r.completed_date.as_deref())
        .text("createdBy", &r.created_by)
        .text("createdByName", &r.created_by_name)
        .text("createdDate", &r.created_date);
    if include_details {
        w.open("details");
        for m in &r.details.component_failures {
            message(w, "componentFailures", m);
        }
        for m in &r.details.component_successes {
            message(w, "componentSuccesses", m);
        }
        w.open("runTestResult")
            .num("numFailures", 0)
            .num("numTestsRun", 0)
            .num("totalTime", 0)
            .close("runTestResult");
        w.close("details");
    }
    w.bool("done", r.done)
        .opt("errorMessage", r.error_message.as_deref())
        .opt("errorStatusCode", r.error_status_code.as_deref())
        .text("id", &r.id)
        .bool("ignoreWarnings", r.ignore_warnings)
        .text("lastModifiedDate", &r.last_modified_date)
        .num("numberComponentErrors", r.number_component_errors)
        .num("numberComponentsDeployed", r.number_components_deployed)
        .num("numberComponentsTotal", r.number_components_total)
        .num("numberTestErrors", r.number_test_errors)
        .num("numberTestsCompleted", r.number_tests_completed)
        .num("numberTestsTotal", r.number_tests_total)
        .bool("rollbackOnError", r.rollback_on_error)
        .bool("runTestsEnabled", r.run_tests_enabled)
        .opt("startDate", r.start_date.as_deref())
        .opt("stateDetail", r.state_detail.as_deref())
        .text("status", r.status.as_str())
        .bool("success", r.success);
}

/// `DeployMessage` in the WSDL's order.
fn message(w: &mut Writer, name: &str, m: &DeployMessage) {
    w.open(name).bool("changed", m.changed);
    if let Some(c) = m.column_number {
        w.num("columnNumber", c);
    }
    w.text("componentType", &m.component_type)
        .bool("created", m.created)
        .text("createdDate", &m.created_date)
        .bool("deleted", m.deleted)
        .text("fileName", &m.file_name)
        .text("fullName", &m.full_name)
        .opt("id", m.id.as_deref());
    if let Some(l) = m.line_number {
        w.num("lineNumber", l);
    }
    let problem_type = m.problem_type.map(|p| match p {
        eca_deploy::ProblemType::Warning => "Warning",
        eca_deploy::ProblemType::Error => "Error",
    });
    w.opt("problem", m.problem.as_deref())
        .opt("problemType", problem_type)
        .bool("success", m.success)
        .close(name);
}

/// `FileProperties` in the WSDL's order.
fn file_properties(w: &mut Writer, name: &str, p: &FileProperties) {
    w.open(name)
        .text("createdById", &p.created_by_id)
        .text("createdByName", &p.created_by_name)
        .text("createdDate", &p.created_date)
        .text("fileName", &p.file_name)
        .text("fullName", &p.full_name)
        .text("id", &p.id)
        .text("lastModifiedById", &p.last_modified_by_id)
        .text("lastModifiedByName", &p.last_modified_by_name)
        .text("lastModifiedDate", &p.last_modified_date)
        .text("manageableState", &p.manageable_state)
        .text("type", &p.type_name)
        .close(name);
}

/// `listMetadataResponse`: one `result` per file.
pub fn list_metadata(files: &[FileProperties]) -> String {
    let mut w = Writer::default();
    w.open("listMetadataResponse");
    for f in files {
        file_properties(&mut w, "result", f);
    }
    w.close("listMetadataResponse");
    w.into_envelope()
}

/// `describeMetadataResponse`: the External Client App types that exist at `version`.
pub fn describe_metadata(version: eca_metadata::ApiVersion) -> String {
    let mut w = Writer::default();
    w.open("describeMetadataResponse").open("result");
    for ty in MetadataType::ALL
        .iter()
        .copied()
        .filter(|t| t.exists_at(version))
    {
        w.open("metadataObjects")
            .text("directoryName", ty.directory())
            .bool("inFolder", false)
            .bool("metaFile", false)
            .text("suffix", ty.suffix())
            .text("xmlName", ty.manifest_name())
            .close("metadataObjects");
    }
    w.text("organizationNamespace", "")
        .bool("partialSaveAllowed", true)
        .bool("testRequired", false)
        .close("result")
        .close("describeMetadataResponse");
    w.into_envelope()
}

/// `checkRetrieveStatusResponse`: a finished `RetrieveResult`.
pub fn check_retrieve_status(id: &str, result: &RetrieveResult, include_zip: bool) -> String {
    let mut w = Writer::default();
    w.open("checkRetrieveStatusResponse")
        .open("result")
        .bool("done", true);
    for p in &result.file_properties {
        file_properties(&mut w, "fileProperties", p);
    }
    w.text("id", id);
    for m in &result.messages {
        w.open("messages")
            .text("fileName", &m.file_name)
            .text("problem", &m.problem)
            .close("messages");
    }
    w.text("status", "Succeeded").bool("success", true);
    if include_zip {
        w.text(
            "zipFile",
            &base64::engine::general_purpose::STANDARD.encode(&result.zip),
        );
    }
    w.close("result").close("checkRetrieveStatusResponse");
    w.into_envelope()
}
