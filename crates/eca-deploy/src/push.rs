//! Push credentials at rest (`spec/metadata.md` §2.7, §4.2): the secrets of an inline
//! `androidPushConfig` or `applePushConfig` (`serviceAccount`, `signingKey`, `certificate`,
//! `password`) are stored only sealed under the master key, and the record gets its
//! `pushConfigLink` (`<org id>:<1Dh… id>`) when it is created.
//!
//! Decisions, where Salesforce documents no more (docs/metadata-api.md, "Push credentials"):
//! - Readers (`retrieve`, `readMetadata`) get the link and never the inline config, so the
//!   secrets never leave the server. That file is what the documentation says to deploy when
//!   an app reuses the credentials elsewhere, and it deploys again as it is: a link to the
//!   component's own record keeps the stored credentials.
//! - An inline config deployed again replaces the credentials and keeps the link.
//! - A link to another record must name one that exists, in this org or another, and that
//!   is of the kind `pushServiceType` says. Deleting the record's component deletes the
//!   credentials; links to it from elsewhere then fail their next deploy.

use eca_core::crypto::MasterKey;
use eca_core::ids::PushConfigId;
use eca_core::{OrgId, Rng};
use eca_metadata::model::{Component, PushSettings, Secret};
use eca_metadata::{MetadataType, xml};
use eca_store::{ChangeSet, ComponentChange, Store, StoreError};

use crate::DeployError;
use crate::plan::{Planner, Problem};
use crate::state::Key;

/// What a sealed value starts with in the stored XML.
const SEALED: &str = "eca-sealed:v1:";

/// The associated data a secret is sealed under: the record and the element, so a sealed
/// value copied to another record or element does not open.
fn context(link: &str, element: &str) -> Vec<u8> {
    format!("eca-push:{link}:{element}").into_bytes()
}

/// The secrets of the inline config, by element name.
fn secrets_mut(push: &mut PushSettings) -> Vec<(&'static str, &mut Secret)> {
    let mut out = Vec::new();
    if let Some(android) = &mut push.android_push_config
        && let Some(s) = &mut android.service_account
    {
        out.push(("serviceAccount", s));
    }
    if let Some(apple) = &mut push.apple_push_config {
        for (name, s) in [
            ("certificate", &mut apple.certificate),
            ("password", &mut apple.password),
            ("signingKey", &mut apple.signing_key),
        ] {
            if let Some(s) = s {
                out.push((name, s));
            }
        }
    }
    out
}

fn has_inline(push: &PushSettings) -> bool {
    push.android_push_config.is_some() || push.apple_push_config.is_some()
}

/// Seals the inline config's secrets under record `link`. Values already sealed are kept as
/// they are only when `keep_sealed` (the stored ones); a deployed file's values are sealed,
/// whatever they look like, unless they are what `previous` (the record as stored) holds:
/// then its sealed value is kept, so a redeploy of the same credentials changes nothing.
fn seal(
    push: &mut PushSettings,
    link: &str,
    key: &MasterKey,
    rng: &dyn Rng,
    keep_sealed: bool,
    previous: Option<&PushSettings>,
) {
    let mut previous = previous.cloned();
    let before: Vec<(&'static str, String)> = previous
        .as_mut()
        .map(|p| {
            secrets_mut(p)
                .into_iter()
                .map(|(e, s)| (e, s.expose().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    for (element, secret) in secrets_mut(push) {
        let value = secret.expose();
        if keep_sealed && value.starts_with(SEALED) {
            continue;
        }
        let context = context(link, element);
        // The stored value itself (carried over from the stored file), or what it opens to.
        let unchanged = before.iter().find(|(e, sealed)| {
            *e == element
                && (sealed.as_str() == value
                    || sealed.strip_prefix(SEALED).is_some_and(|body| {
                        key.open_text(body, &context)
                            .is_ok_and(|plain| plain.as_bytes() == value.as_bytes())
                    }))
        });
        let sealed = match unchanged {
            Some((_, sealed)) => sealed.clone(),
            None => format!("{SEALED}{}", key.seal_text(value, &context, rng)),
        };
        *secret = Secret::new(sealed);
    }
}

/// Whether a stored record is as this module writes it: linked, every secret sealed.
fn is_sealed(push: &PushSettings) -> bool {
    let mut push = push.clone();
    !has_inline(&push)
        || (push.push_config_link.is_some()
            && secrets_mut(&mut push)
                .iter()
                .all(|(_, s)| s.expose().starts_with(SEALED)))
}

/// `<org id>:<1Dh… id>` in its canonical form (15-character ids), or `None`.
fn parse_link(link: &str) -> Option<(OrgId, String)> {
    let (org, id) = link.trim().split_once(':')?;
    let org = OrgId::parse(org).ok()?;
    let id = PushConfigId::parse(id).ok()?;
    let canonical = format!("{}:{}", org.as_15(), id.as_15());
    Some((org, canonical))
}

/// The kind of credentials a service type needs, as the inline element's name.
fn kind_of(push: &PushSettings) -> Option<&'static str> {
    if push.android_push_config.is_some() {
        Some("Android")
    } else if push.apple_push_config.is_some() {
        Some("Apple")
    } else {
        None
    }
}

/// A stored push settings component as readers get it: the link alone when it has one, and
/// in no case a secret.
fn readable(stored_xml: &str, full_name: &str) -> Result<String, DeployError> {
    let corrupt = || DeployError::Corrupt(format!("stored push settings {full_name} do not parse"));
    let doc = xml::parse_str(stored_xml).map_err(|_| corrupt())?;
    let Component::PushSettings(mut push) =
        Component::from_element(MetadataType::PushSettings, full_name, &doc.root)
    else {
        return Err(corrupt());
    };
    if push.push_config_link.is_some() {
        push.android_push_config = None;
        push.apple_push_config = None;
    } else {
        // Written before credentials were sealed, and not sealed yet: nothing secret leaves.
        if let Some(android) = &mut push.android_push_config {
            android.service_account = None;
        }
        if let Some(apple) = &mut push.apple_push_config {
            apple.certificate = None;
            apple.password = None;
            apple.signing_key = None;
        }
    }
    Ok(Component::PushSettings(push).to_xml())
}

/// The stored XML of a component as readers (`retrieve`, `readMetadata`) get it. Stored push
/// settings that do not parse are an error, never passed on as they are.
pub fn readable_xml(
    ty: MetadataType,
    full_name: &str,
    stored_xml: &str,
) -> Result<String, DeployError> {
    match ty {
        MetadataType::PushSettings => readable(stored_xml, full_name),
        _ => Ok(stored_xml.to_owned()),
    }
}

impl Planner<'_> {
    /// Push settings `push`, about to be deployed as component `k`: sealed and linked, or
    /// linked to credentials that exist. A problem stops the component.
    pub(crate) async fn settle_push(
        &self,
        push: &mut PushSettings,
        k: &Key,
    ) -> Result<Option<Problem>, DeployError> {
        let org15 = self.ctx.org.as_15();
        let stored = match self.state.stored_model(k) {
            Some(Component::PushSettings(s)) => Some(s.clone()),
            _ => None,
        };
        if has_inline(push) {
            // New credentials: the record's own link is kept, or one is made (§4.2).
            let own = stored
                .as_ref()
                .filter(|s| has_inline(s))
                .and_then(|s| s.push_config_link.clone())
                .filter(|l| l.split_once(':').is_some_and(|(org, _)| org == org15));
            let link = own.unwrap_or_else(|| {
                format!("{org15}:{}", PushConfigId::generate(self.ctx.rng).as_15())
            });
            let previous = stored
                .as_ref()
                .filter(|s| s.push_config_link.as_deref() == Some(link.as_str()));
            seal(
                push,
                &link,
                self.ctx.master_key,
                self.ctx.rng,
                false,
                previous,
            );
            push.push_config_link = Some(link);
            return Ok(None);
        }
        let Some(written) = push.push_config_link.clone() else {
            return Ok(None);
        };
        let Some((link_org, link)) = parse_link(&written) else {
            return Ok(Some(Problem::error(format!(
                "In field: pushConfigLink - `{written}` is not `<org id>:<1Dh… push configuration id>`"
            ))));
        };
        push.push_config_link = Some(link.clone());
        let target = match stored {
            Some(s) if has_inline(&s) && s.push_config_link.as_deref() == Some(link.as_str()) => {
                // The component's own credentials, as a retrieve gives them back: kept.
                push.android_push_config = s.android_push_config.clone();
                push.apple_push_config = s.apple_push_config.clone();
                Some(s)
            }
            // Another record, in this org or another: `check_push_links` looks again at this
            // org's once the whole plan is made.
            _ => find(self.ctx.store, &link_org, &link)
                .await?
                .map(|(_, owner)| owner),
        };
        let Some(target) = target else {
            return Ok(Some(not_found(&link)));
        };
        Ok(kind_problem(
            &link,
            &target,
            push.push_service_type.as_deref(),
        ))
    }
}

impl Planner<'_> {
    /// Once the whole plan is made (destructive manifests included): a link to a record of
    /// this org must still name credentials after the deploy, so a deploy cannot delete or
    /// replace the record its own components link to.
    pub(crate) async fn check_push_links(&mut self) -> Result<(), DeployError> {
        let org15 = self.ctx.org.as_15().to_owned();
        for i in 0..self.items.len() {
            let item = &self.items[i];
            if item.failed || item.before.is_none() || item.ty != Some(MetadataType::PushSettings) {
                continue;
            }
            let Some(k) = item.key() else { continue };
            let Some(Component::PushSettings(push)) = self.state.current(&k) else {
                continue;
            };
            let Some(link) = push.push_config_link.clone() else {
                continue;
            };
            if has_inline(push) || link.split_once(':').is_none_or(|(org, _)| org != org15) {
                continue;
            }
            let service = push.push_service_type.clone();
            // Planned components first: they are what the org holds after the deploy.
            let planned = self
                .state
                .slots
                .iter()
                .find_map(|(key, slot)| match &slot.current {
                    Some(Component::PushSettings(p))
                        if key.0 == MetadataType::PushSettings && owns(p, &link) =>
                    {
                        Some(p.clone())
                    }
                    _ => None,
                });
            let problem = match planned {
                Some(owner) => kind_problem(&link, &owner, service.as_deref()),
                None => {
                    let stored = find(self.ctx.store, self.ctx.org, &link).await?;
                    match stored {
                        // The owner is one of the components this deploy touches, and it
                        // no longer holds the credentials.
                        Some((name, _))
                            if self.state.slots.contains_key(&crate::state::key(
                                MetadataType::PushSettings,
                                &name,
                            )) =>
                        {
                            Some(Problem::error(format!(
                                "In field: pushConfigLink - push configuration `{link}` is deleted or replaced by this deploy: deploy an androidPushConfig or applePushConfig here instead"
                            )))
                        }
                        Some((_, owner)) => kind_problem(&link, &owner, service.as_deref()),
                        None => Some(not_found(&link)),
                    }
                }
            };
            if let Some(problem) = problem {
                self.undo(i, vec![problem]);
            }
        }
        Ok(())
    }
}

/// Whether `push` holds the credentials of record `link`.
fn owns(push: &PushSettings, link: &str) -> bool {
    has_inline(push) && push.push_config_link.as_deref() == Some(link)
}

fn not_found(link: &str) -> Problem {
    Problem::error(format!(
        "In field: pushConfigLink - no push configuration `{link}` found: deploy the app's androidPushConfig or applePushConfig to create one"
    ))
}

/// The problem when record `link`'s credentials (held by `owner`) are not of the kind
/// `service` names.
fn kind_problem(link: &str, owner: &PushSettings, service: Option<&str>) -> Option<Problem> {
    let kind = kind_of(owner)?;
    let service = service?;
    (kind != service).then(|| {
        Problem::error(format!(
            "In field: pushConfigLink - push configuration `{link}` holds {kind} credentials, but pushServiceType is {service}"
        ))
    })
}

/// The stored push settings of `org` that own record `link`, with their full name.
async fn find(
    store: &dyn Store,
    org: &OrgId,
    link: &str,
) -> Result<Option<(String, PushSettings)>, DeployError> {
    for c in store
        .components_of_type(org, MetadataType::PushSettings.name())
        .await?
    {
        let Ok(doc) = xml::parse_str(&c.xml) else {
            continue;
        };
        if let Component::PushSettings(p) =
            Component::from_element(MetadataType::PushSettings, &c.full_name, &doc.root)
            && owns(&p, link)
        {
            return Ok(Some((c.full_name, p)));
        }
    }
    Ok(None)
}

/// The setting that says the audit trail's push credentials are sealed.
const AUDIT_SEALED: &str = "push_credentials.audit_sealed";

/// Seals the push credentials stored before they were sealed (a database written by an
/// earlier version): each such record gets its link and its secrets sealed, in place, with
/// its last change's user and time kept; so do the secrets in the audit trail's files, once.
/// Run at start-up, before requests are served. Another node sealing the same record at once
/// makes this one skip it.
pub async fn seal_stored_push_credentials(
    store: &dyn Store,
    key: &MasterKey,
    rng: &dyn Rng,
) -> Result<SealReport, DeployError> {
    let mut report = seal_audit_trail(store, key, rng).await?;
    for org in store.orgs().await? {
        for c in store
            .components_of_type(&org.id, MetadataType::PushSettings.name())
            .await?
        {
            // A row that does not parse is left for an operator (retrieve and readMetadata
            // refuse it); it does not keep the server from starting.
            let Ok(doc) = xml::parse_str(&c.xml) else {
                report
                    .unreadable
                    .push(format!("{}/{}", org.id, c.full_name));
                continue;
            };
            let Component::PushSettings(mut push) =
                Component::from_element(MetadataType::PushSettings, &c.full_name, &doc.root)
            else {
                continue;
            };
            if is_sealed(&push) {
                continue;
            }
            let link = push.push_config_link.clone().unwrap_or_else(|| {
                format!("{}:{}", org.id.as_15(), PushConfigId::generate(rng).as_15())
            });
            seal(&mut push, &link, key, rng, true, None);
            push.push_config_link = Some(link);
            let change = ComponentChange::Update {
                type_name: c.type_name.clone(),
                full_name: c.full_name.clone(),
                app_name: c.app_name.clone(),
                xml: Component::PushSettings(push).to_xml(),
                revision: c.revision,
            };
            let changes = ChangeSet {
                org: &org.id,
                user: &c.updated_by,
                at: c.updated_at,
                components: std::slice::from_ref(&change),
                consumers: &[],
                audit: &[],
                finish: None,
                deleted_apps: &[],
            };
            match store.apply_changes(&changes).await {
                Ok(()) => report.records += 1,
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(report)
}

/// What [`seal_stored_push_credentials`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SealReport {
    /// Stored push settings sealed.
    pub records: u64,
    /// Audit entries whose files were sealed.
    pub audit_entries: u64,
    /// Stored retrieve results deleted (they may hold credentials as retrieved before).
    pub retrieves: u64,
    /// Stored push settings that do not parse (`<org id>/<full name>`), left as they are.
    pub unreadable: Vec<String>,
}

/// Seals the push secrets of the audit trail's files, under `audit:<seq>` in place of a
/// link; once per database (the setting [`AUDIT_SEALED`]), since every entry written since
/// holds sealed values only.
async fn seal_audit_trail(
    store: &dyn Store,
    key: &MasterKey,
    rng: &dyn Rng,
) -> Result<SealReport, DeployError> {
    let mut report = SealReport::default();
    if store.setting(AUDIT_SEALED).await?.is_some() {
        return Ok(report);
    }
    // Retrieve results of the last hour were written by the earlier version, push
    // credentials included: they go (a `checkRetrieveStatus` of one then finds nothing).
    report.retrieves = store
        .delete_expired_retrieves(eca_core::Timestamp::from_millis(i64::MAX))
        .await?;
    let ty = MetadataType::PushSettings;
    let mut after = 0;
    loop {
        let page = store.audit_of_type(ty.name(), after, 500).await?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        for record in &page {
            let entry = &record.entry;
            let link = format!("audit:{}", record.seq);
            let seal_text = |text: &Option<String>| -> Option<String> {
                let doc = xml::parse_str(text.as_deref()?).ok()?;
                let Component::PushSettings(mut push) =
                    Component::from_element(ty, &entry.full_name, &doc.root)
                else {
                    return None;
                };
                let before = push.clone();
                seal(&mut push, &link, key, rng, true, None);
                (push != before).then(|| Component::PushSettings(push).to_xml())
            };
            let (before, after_text) = (seal_text(&entry.before_xml), seal_text(&entry.after_xml));
            if before.is_none() && after_text.is_none() {
                continue;
            }
            let before = before.or_else(|| entry.before_xml.clone());
            let after_text = after_text.or_else(|| entry.after_xml.clone());
            if store
                .replace_audit_texts(
                    record.seq,
                    ty.name(),
                    before.as_deref(),
                    after_text.as_deref(),
                )
                .await?
            {
                report.audit_entries += 1;
            }
        }
    }
    store.put_setting(AUDIT_SEALED, "1").await?;
    Ok(report)
}
