//! Custom attributes (`spec/metadata.md` §8) evaluated for one user: the formulas of
//! `eca_metadata::formula`, read against the user, the org and the user's profile.
//!
//! What is supported: string, number and boolean literals, `$User.<Field>` (also written
//! without `$`), `$Organization.Id|Name`, `$Profile.Name`, `&` and `+` on strings, comparisons,
//! `AND`/`OR`/`NOT`, and the functions `IF`, `TEXT`, `UPPER`, `LOWER`, `TRIM`, `LEN`,
//! `ISBLANK`, `BLANKVALUE`. A formula that does not parse or uses anything else is left out
//! of the result (and logged), rather than failing the request. Field names compare
//! case-insensitively, as in Salesforce formulas.

use std::collections::BTreeMap;

use eca_core::domain::{Org, User};
use eca_metadata::formula::{self, BinaryOp, Expr};
use eca_metadata::model::CustomAttribute;

/// What a formula reads.
#[derive(Debug)]
pub struct Subject<'a> {
    pub user: &'a User,
    pub org: &'a Org,
    pub profile_name: Option<&'a str>,
}

/// The attributes' values by key; formulas that cannot be evaluated are left out.
pub fn evaluate(
    attributes: &[&CustomAttribute],
    subject: &Subject<'_>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for attribute in attributes {
        let value = formula::parse(&attribute.formula)
            .ok()
            .and_then(|expr| eval(&expr, subject));
        match value {
            Some(v) => {
                out.insert(attribute.key.clone(), v.text());
            }
            None => tracing::debug!(key = %attribute.key, "custom attribute not evaluated"),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Number(f64),
    Bool(bool),
    Null,
}

impl Value {
    fn text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
        }
    }

    fn is_blank(&self) -> bool {
        matches!(self, Value::Null) || matches!(self, Value::Str(s) if s.trim().is_empty())
    }

    fn truthy(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

fn opt(v: Option<&String>) -> Value {
    v.map_or(Value::Null, |s| Value::Str(s.clone()))
}

fn field(subject: &Subject<'_>, object: &str, path: &[String]) -> Option<Value> {
    let [name] = path else {
        return None;
    };
    let name = name.to_ascii_lowercase();
    let u = subject.user;
    let f = &u.fields;
    Some(match object.to_ascii_lowercase().as_str() {
        "user" => match name.as_str() {
            "id" => Value::Str(u.id.to_string()),
            "username" => Value::Str(u.username.clone()),
            "email" => Value::Str(f.email.clone()),
            "firstname" => opt(f.first_name.as_ref()),
            "lastname" => Value::Str(f.last_name.clone()),
            "name" => Value::Str(u.name()),
            "alias" => opt(f.alias.as_ref()),
            "federationidentifier" => opt(f.federation_id.as_ref()),
            "title" => opt(f.title.as_ref()),
            "companyname" => opt(f.company_name.as_ref()),
            "department" => opt(f.department.as_ref()),
            "division" => opt(f.division.as_ref()),
            "street" => opt(f.street.as_ref()),
            "city" => opt(f.city.as_ref()),
            "state" => opt(f.state.as_ref()),
            "postalcode" => opt(f.postal_code.as_ref()),
            "country" => opt(f.country.as_ref()),
            "phone" => opt(f.phone.as_ref()),
            "mobilephone" => opt(f.mobile_phone.as_ref()),
            "employeenumber" => opt(f.employee_number.as_ref()),
            "timezonesidkey" => Value::Str(f.time_zone.clone()),
            "localesidkey" => Value::Str(f.locale.clone()),
            "languagelocalekey" => Value::Str(f.language.clone()),
            "isactive" => Value::Bool(u.is_active),
            _ => return None,
        },
        "organization" => match name.as_str() {
            "id" => Value::Str(subject.org.id.to_string()),
            "name" => Value::Str(subject.org.name.clone()),
            _ => return None,
        },
        "profile" => match name.as_str() {
            "name" => subject
                .profile_name
                .map_or(Value::Null, |n| Value::Str(n.to_owned())),
            "id" => Value::Str(u.profile_id.to_string()),
            _ => return None,
        },
        _ => return None,
    })
}

fn eval(expr: &Expr, subject: &Subject<'_>) -> Option<Value> {
    Some(match expr {
        Expr::Str(s) => Value::Str(s.clone()),
        Expr::Number(n) => Value::Number(*n),
        Expr::Bool(b) => Value::Bool(*b),
        Expr::Null => Value::Null,
        Expr::Field { object, path, .. } => field(subject, object, path)?,
        Expr::Not(e) => Value::Bool(!eval(e, subject)?.truthy()?),
        Expr::Negate(e) => match eval(e, subject)? {
            Value::Number(n) => Value::Number(-n),
            _ => return None,
        },
        Expr::Binary { op, left, right } => {
            binary(*op, eval(left, subject)?, eval(right, subject)?)?
        }
        Expr::Call { name, args } => call(name, args, subject)?,
    })
}

fn binary(op: BinaryOp, l: Value, r: Value) -> Option<Value> {
    use BinaryOp::*;
    Some(match (op, l, r) {
        (Concat, l, r) => Value::Str(l.text() + &r.text()),
        (Add, Value::Number(a), Value::Number(b)) => Value::Number(a + b),
        (Add, l @ (Value::Str(_) | Value::Null), r @ (Value::Str(_) | Value::Null)) => {
            Value::Str(l.text() + &r.text())
        }
        (Sub, Value::Number(a), Value::Number(b)) => Value::Number(a - b),
        (Mul, Value::Number(a), Value::Number(b)) => Value::Number(a * b),
        (Div, Value::Number(a), Value::Number(b)) if b != 0.0 => Value::Number(a / b),
        (Eq, l, r) => Value::Bool(l.text() == r.text()),
        (Ne, l, r) => Value::Bool(l.text() != r.text()),
        (Lt, Value::Number(a), Value::Number(b)) => Value::Bool(a < b),
        (Le, Value::Number(a), Value::Number(b)) => Value::Bool(a <= b),
        (Gt, Value::Number(a), Value::Number(b)) => Value::Bool(a > b),
        (Ge, Value::Number(a), Value::Number(b)) => Value::Bool(a >= b),
        (And, l, r) => Value::Bool(l.truthy()? && r.truthy()?),
        (Or, l, r) => Value::Bool(l.truthy()? || r.truthy()?),
        _ => return None,
    })
}

fn call(name: &str, args: &[Expr], subject: &Subject<'_>) -> Option<Value> {
    let arg = |i: usize| args.get(i).and_then(|a| eval(a, subject));
    let name = name.to_ascii_uppercase();
    Some(match (name.as_str(), args.len()) {
        ("IF", 3) => {
            if arg(0)?.truthy()? {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        ("TEXT", 1) => Value::Str(arg(0)?.text()),
        ("UPPER", 1) => Value::Str(arg(0)?.text().to_uppercase()),
        ("LOWER", 1) => Value::Str(arg(0)?.text().to_lowercase()),
        ("TRIM", 1) => Value::Str(arg(0)?.text().trim().to_owned()),
        ("LEN", 1) => Value::Number(arg(0)?.text().chars().count() as f64),
        ("ISBLANK", 1) => Value::Bool(arg(0)?.is_blank()),
        ("BLANKVALUE", 2) => {
            let first = arg(0)?;
            if first.is_blank() { arg(1)? } else { first }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use eca_core::domain::UserFields;
    use eca_core::rng::DeterministicRng;
    use eca_core::{OrgId, ProfileId, Timestamp, UserId};

    #[test]
    fn formulas_read_the_user_org_and_profile() {
        let rng = DeterministicRng::new(3);
        let org = Org {
            id: OrgId::generate(&rng),
            name: "Acme".into(),
            my_domain: "acme".into(),
            is_default: false,
            session_timeout_minutes: 60,
            enforce_ip_ranges_every_request: false,
            created_at: Timestamp(0),
        };
        let user = User {
            id: UserId::generate(&rng),
            org_id: org.id.clone(),
            username: "ada@acme.example".into(),
            fields: UserFields {
                email: "ada@acme.example".into(),
                last_name: "Lovelace".into(),
                country: Some("UK".into()),
                ..UserFields::default()
            },
            profile_id: ProfileId::generate(&rng),
            is_active: true,
            is_frozen: false,
            password_hash: None,
            failed_logins: 0,
            locked_until: None,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        };
        let subject = Subject {
            user: &user,
            org: &org,
            profile_name: Some("Standard User"),
        };
        let attrs = [
            CustomAttribute::new("country", "$User.Country"),
            CustomAttribute::new("org", "$Organization.Name & '-' & UPPER(User.LastName)"),
            CustomAttribute::new(
                "tier",
                "IF($Profile.Name = 'Standard User', 'std', 'other')",
            ),
            CustomAttribute::new("dept", "BLANKVALUE($User.Department, 'none')"),
            CustomAttribute::new("bad", "$User.NoSuchField"),
            CustomAttribute::new("broken", "IF("),
        ];
        let refs: Vec<&CustomAttribute> = attrs.iter().collect();
        let got = evaluate(&refs, &subject);
        let expected: BTreeMap<String, String> = [
            ("country", "UK"),
            ("org", "Acme-LOVELACE"),
            ("tier", "std"),
            ("dept", "none"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(got, expected);
    }
}
