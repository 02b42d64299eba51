//! `DeployResult`, in the shape Salesforce's Metadata API returns it (field names as in the
//! REST `deployRequest` JSON; the SOAP layer renders the same struct as XML).

use eca_core::Timestamp;
use eca_store::DeployStatus;
use serde::{Deserialize, Serialize};

/// The outcome of a deploy, finished or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployResult {
    /// The deploy request id (`0Af…`).
    pub id: String,
    #[serde(with = "status_name")]
    pub status: DeployStatus,
    pub success: bool,
    pub done: bool,
    pub check_only: bool,
    pub ignore_warnings: bool,
    pub rollback_on_error: bool,
    pub number_components_total: u32,
    pub number_components_deployed: u32,
    pub number_component_errors: u32,
    pub number_tests_total: u32,
    pub number_tests_completed: u32,
    pub number_test_errors: u32,
    pub run_tests_enabled: bool,
    pub created_date: String,
    pub start_date: Option<String>,
    pub completed_date: Option<String>,
    pub last_modified_date: String,
    /// Who asked to cancel the deploy, once someone has (`Canceling` or `Canceled`).
    #[serde(default)]
    pub canceled_by: Option<String>,
    #[serde(default)]
    pub canceled_by_name: Option<String>,
    /// The deploying user's id.
    pub created_by: String,
    pub created_by_name: String,
    /// Why the whole deploy failed, when it failed before looking at components.
    pub error_message: Option<String>,
    pub error_status_code: Option<String>,
    pub state_detail: Option<String>,
    pub details: DeployDetails,
}

/// The per-component messages.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployDetails {
    pub component_successes: Vec<DeployMessage>,
    pub component_failures: Vec<DeployMessage>,
}

/// Salesforce's `DeployMessage`: one component's success, or one problem with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeployMessage {
    pub changed: bool,
    pub column_number: Option<u32>,
    /// The metadata type name; empty for `package.xml`.
    pub component_type: String,
    pub created: bool,
    pub created_date: String,
    pub deleted: bool,
    /// The file, relative to the package root (`externalClientApps/MyApp.eca`), or the
    /// manifest that named the component.
    pub file_name: String,
    pub full_name: String,
    pub id: Option<String>,
    pub line_number: Option<u32>,
    pub problem: Option<String>,
    pub problem_type: Option<ProblemType>,
    pub success: bool,
}

/// `Warning` or `Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProblemType {
    Warning,
    Error,
}

/// A component that was (or, check-only, would be) deployed or deleted.
pub(crate) fn success(
    component_type: &str,
    full_name: &str,
    file_name: &str,
    change: Change,
    at: Timestamp,
) -> DeployMessage {
    DeployMessage {
        changed: matches!(change, Change::Changed),
        column_number: None,
        component_type: component_type.to_owned(),
        created: matches!(change, Change::Created),
        created_date: at.to_iso8601(),
        deleted: matches!(change, Change::Deleted),
        file_name: file_name.to_owned(),
        full_name: full_name.to_owned(),
        id: None,
        line_number: None,
        problem: None,
        problem_type: None,
        success: true,
    }
}

/// What a successful component did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Created,
    Changed,
    Unchanged,
    Deleted,
}

/// One problem of a component. `success` is true only for a warning that was let through.
pub(crate) fn failure(
    component_type: &str,
    full_name: &str,
    file_name: &str,
    problem: &crate::plan::Problem,
    success: bool,
    at: Timestamp,
) -> DeployMessage {
    DeployMessage {
        changed: false,
        column_number: problem.column,
        component_type: component_type.to_owned(),
        created: false,
        created_date: at.to_iso8601(),
        deleted: false,
        file_name: file_name.to_owned(),
        full_name: full_name.to_owned(),
        id: None,
        line_number: problem.line,
        problem: Some(problem.message.clone()),
        problem_type: Some(problem.kind),
        success,
    }
}

/// `DeployStatus` as its Metadata API name.
mod status_name {
    use eca_store::DeployStatus;
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(status: &DeployStatus, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(status.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DeployStatus, D::Error> {
        let name = String::deserialize(d)?;
        DeployStatus::parse(&name)
            .ok_or_else(|| D::Error::custom(format!("unknown deploy status `{name}`")))
    }
}
