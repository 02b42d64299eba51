//! The REST resources Salesforce clients probe first: the API versions list, the resource map
//! of a version, and the identity URL. Errors are the REST error array.

pub mod identity;
pub mod ip_ranges;
pub mod oauth_keys;
pub mod orgs;
pub mod query;
pub mod saml_keys;
pub mod schema;
pub mod session_settings;
pub mod sobjects;
pub mod soql;
pub mod users;
pub mod versions;

use crate::error::ApiError;
use crate::org::OrgContext;

/// Anything else: 404 `NOT_FOUND`, after the org is resolved (an unknown org says so).
pub async fn not_found(_org: OrgContext) -> ApiError {
    ApiError::NotFound("The requested resource does not exist".to_owned())
}
