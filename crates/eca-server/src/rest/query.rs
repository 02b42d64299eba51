//! `GET /services/data/vXX.X/query?q=SOQL` and `GET .../tooling/query?q=SOQL`: the
//! [`soql`](super::soql) subset over User, Profile, PermissionSet, PermissionSetAssignment,
//! LoginIpRange and Organization, and (tooling only) an always-empty SandboxProcess. This answers the probes
//! the Salesforce CLI makes after a login (`spec/oauth-and-connect.md` §5.1): `ScratchOrgInfo`
//! gets `INVALID_TYPE` (not a Dev Hub), `Organization` one record, `SandboxProcess` none.
//!
//! Rows are those the caller may read (see [`sobjects`](super::sobjects)): without Manage
//! Users or an External Client App admin or viewer permission, a User query sees only the
//! caller, an assignment query only the caller's assignments and a LoginIpRange query only
//! the ranges of the caller's profile. All rows come in one answer
//! (`done: true`); there is no `nextRecordsUrl`.

use std::cmp::Ordering;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use serde::{Deserialize, Serialize};

use super::schema::{Assignment, Field, Kind, Record, Row, SObject, Value};
use super::sobjects::{Caller, assignments};
use super::soql::{self, Literal, Operator, located};
use super::versions::path_version;
use crate::auth::Authenticated;
use crate::error::{ApiError, RequestCode};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct QueryPath {
    version: String,
}

#[derive(Debug, Deserialize)]
struct Params {
    q: Option<String>,
}

/// `GET .../query` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResult {
    pub total_size: usize,
    pub done: bool,
    pub records: Vec<Record>,
}

/// `GET .../tooling/query` answer, with the Tooling API's extra fields.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolingQueryResult {
    pub size: usize,
    pub total_size: usize,
    pub done: bool,
    pub query_locator: Option<String>,
    pub entity_type_name: &'static str,
    pub records: Vec<Record>,
}

/// Which API a query came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Data,
    Tooling,
}

/// `GET /services/data/vXX.X/query?q=...`.
pub async fn data(
    State(state): State<AppState>,
    Path(path): Path<QueryPath>,
    auth: Authenticated,
    uri: Uri,
) -> Result<Json<QueryResult>, ApiError> {
    let version = path_version(&path.version)?;
    let (_, records) = run(&state, auth, &uri, version, Api::Data).await?;
    Ok(Json(QueryResult {
        total_size: records.len(),
        done: true,
        records,
    }))
}

/// `GET /services/data/vXX.X/tooling/query?q=...`.
pub async fn tooling(
    State(state): State<AppState>,
    Path(path): Path<QueryPath>,
    auth: Authenticated,
    uri: Uri,
) -> Result<Json<ToolingQueryResult>, ApiError> {
    let version = path_version(&path.version)?;
    let (object, records) = run(&state, auth, &uri, version, Api::Tooling).await?;
    Ok(Json(ToolingQueryResult {
        size: records.len(),
        total_size: records.len(),
        done: true,
        query_locator: None,
        entity_type_name: object.api_name(),
        records,
    }))
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::request(RequestCode::MalformedQuery, message)
}

/// A condition with its field and values resolved and typed.
struct Condition {
    field: Field,
    operator: Operator,
    values: Vec<Value>,
}

async fn run(
    state: &AppState,
    auth: Authenticated,
    uri: &Uri,
    version: &str,
    api: Api,
) -> Result<(SObject, Vec<Record>), ApiError> {
    let params = Query::<Params>::try_from_uri(uri)
        .map_err(|_| malformed("The query string could not be read"))?;
    let text = params
        .0
        .q
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| malformed("A query string has to be specified"))?;
    let query = soql::parse(&text).map_err(|e| malformed(e.render(&text)))?;
    let object = match SObject::parse(&query.object.text) {
        Some(SObject::SandboxProcess) if api == Api::Data => None,
        found => found,
    }
    .ok_or_else(|| {
        ApiError::request(
            RequestCode::InvalidType,
            located(
                &text,
                Some(query.object.at),
                &format!(
                    "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                    query.object.text
                ),
            ),
        )
    })?;
    let field_of = |name: &soql::Name| {
        object.field(&name.text).ok_or_else(|| {
            ApiError::request(
                RequestCode::InvalidField,
                located(
                    &text,
                    Some(name.at),
                    &format!(
                        "No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                        name.text,
                        object.api_name()
                    ),
                ),
            )
        })
    };
    let mut fields = Vec::new();
    for name in &query.fields {
        let field = field_of(name)?;
        if fields.contains(&field) {
            return Err(malformed(located(
                &text,
                Some(name.at),
                &format!("duplicate field selected: {}", field.api_name()),
            )));
        }
        fields.push(field);
    }
    let mut conditions = Vec::new();
    for filter in &query.filters {
        let field = field_of(&filter.field)?;
        let values = filter
            .values
            .iter()
            .map(|v| typed(field, filter.operator, v))
            .collect::<Result<Vec<_>, TypeError>>()
            .map_err(|(message, code)| {
                ApiError::request(code, located(&text, Some(filter.field.at), &message))
            })?;
        conditions.push(Condition {
            field,
            operator: filter.operator,
            values,
        });
    }
    let mut order = Vec::new();
    for o in &query.order {
        order.push((field_of(&o.field)?, o.descending, o.nulls_last));
    }

    let caller = Caller::load(state, auth).await?;
    let loaded = load(state, &caller, object).await?;
    let mut rows: Vec<Row<'_>> = loaded
        .rows()
        .into_iter()
        .filter(|row| conditions.iter().all(|c| holds(c, &row.get(c.field))))
        .collect();
    rows.sort_by(|a, b| {
        order
            .iter()
            .map(|(field, descending, nulls_last)| {
                compare(&a.get(*field), &b.get(*field), *descending, *nulls_last)
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    let offset = query.offset.map_or(0, |o| o as usize);
    let limit = query.limit.map_or(usize::MAX, |l| l as usize);
    let sobjects = match api {
        Api::Data => format!("/services/data/v{version}/sobjects"),
        Api::Tooling => format!("/services/data/v{version}/tooling/sobjects"),
    };
    let records = rows
        .iter()
        .skip(offset)
        .take(limit)
        .map(|row| Record::of(row, &fields, &sobjects))
        .collect();
    Ok((object, records))
}

type TypeError = (String, RequestCode);

/// A literal as a value of `field`'s kind, or why it cannot be compared with it.
fn typed(field: Field, operator: Operator, literal: &Literal) -> Result<Value, TypeError> {
    let name = field.api_name();
    let kind = field.kind();
    if operator == Operator::Like && kind != Kind::Text {
        return Err((
            format!("invalid operator on field '{name}': LIKE needs a text field"),
            RequestCode::InvalidQueryFilterOperator,
        ));
    }
    match (kind, literal) {
        (_, Literal::Null) => Ok(Value::Null),
        (Kind::Bool, Literal::Bool(b)) => Ok(Value::Bool(*b)),
        (Kind::Bool, _) => Err((
            format!(
                "value of filter criterion for field '{name}' must be of type boolean and should not be enclosed in quotes"
            ),
            RequestCode::InvalidField,
        )),
        (Kind::Id, Literal::Text(t)) => eca_core::ids::to_18(t).map(Value::Text).map_err(|_| {
            (
                format!("invalid ID field: {t}"),
                RequestCode::InvalidQueryFilterOperator,
            )
        }),
        (Kind::Text | Kind::DateTime, Literal::Text(t)) => Ok(Value::Text(t.clone())),
        (_, _) => Err((
            format!(
                "value of filter criterion for field '{name}' must be of type string and should be enclosed in quotes"
            ),
            RequestCode::InvalidField,
        )),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // Text comparisons are case-insensitive in SOQL; 18-character ids are too.
        (Value::Text(x), Value::Text(y)) => x.to_lowercase() == y.to_lowercase(),
        (x, y) => x == y,
    }
}

fn holds(condition: &Condition, value: &Value) -> bool {
    let any = || condition.values.iter().any(|v| equal(value, v));
    match condition.operator {
        Operator::Equals | Operator::In => any(),
        Operator::NotEquals | Operator::NotIn => !any(),
        Operator::Like => match (value, condition.values.first()) {
            (Value::Text(v), Some(Value::Text(pattern))) => soql::like(v, pattern),
            _ => false,
        },
    }
}

fn compare(a: &Value, b: &Value, descending: bool, nulls_last: bool) -> Ordering {
    let ordered = match (a, b) {
        (Value::Null, Value::Null) => return Ordering::Equal,
        (Value::Null, _) => {
            return if nulls_last {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        (_, Value::Null) => {
            return if nulls_last {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        (Value::Text(x), Value::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    };
    if descending {
        ordered.reverse()
    } else {
        ordered
    }
}

/// The stored records of one object that the caller may read.
enum Loaded {
    Users(Vec<eca_core::domain::User>),
    Profiles(Vec<eca_core::domain::Profile>),
    PermissionSets(Vec<eca_core::domain::PermissionSet>),
    Assignments(Vec<Assignment>),
    LoginIpRanges(Vec<eca_core::domain::LoginIpRange>),
    Organization(eca_core::domain::Org),
    Nothing,
}

impl Loaded {
    fn rows(&self) -> Vec<Row<'_>> {
        match self {
            Loaded::Users(v) => v.iter().map(Row::User).collect(),
            Loaded::Profiles(v) => v.iter().map(Row::Profile).collect(),
            Loaded::PermissionSets(v) => v.iter().map(Row::PermissionSet).collect(),
            Loaded::Assignments(v) => v.iter().map(Row::Assignment).collect(),
            Loaded::LoginIpRanges(v) => v.iter().map(Row::LoginIpRange).collect(),
            Loaded::Organization(o) => vec![Row::Organization(o)],
            Loaded::Nothing => Vec::new(),
        }
    }
}

async fn load(state: &AppState, caller: &Caller, object: SObject) -> Result<Loaded, ApiError> {
    let store = state.store();
    let org = caller.org();
    let me = &caller.user().id;
    Ok(match object {
        SObject::User if caller.can_read_users() => Loaded::Users(store.users(&org.id).await?),
        SObject::User => Loaded::Users(vec![caller.user().clone()]),
        SObject::Profile => Loaded::Profiles(store.profiles(&org.id).await?),
        SObject::PermissionSet => Loaded::PermissionSets(store.permission_sets(&org.id).await?),
        SObject::PermissionSetAssignment if caller.can_read_users() => {
            Loaded::Assignments(assignments(state, org).await?)
        }
        SObject::PermissionSetAssignment => Loaded::Assignments(
            store
                .permission_sets_of(me)
                .await?
                .into_iter()
                .map(|set| Assignment::new(me.clone(), set.id))
                .collect(),
        ),
        SObject::LoginIpRange if caller.can_read_users() => {
            Loaded::LoginIpRanges(store.login_ip_ranges(&org.id).await?)
        }
        SObject::LoginIpRange => {
            Loaded::LoginIpRanges(store.login_ip_ranges_of(&caller.user().profile_id).await?)
        }
        SObject::Organization => Loaded::Organization(org.clone()),
        SObject::SandboxProcess => Loaded::Nothing,
    })
}
