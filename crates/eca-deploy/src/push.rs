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
/// they are only when `keep_sealed` (the stored ones); a deployed file's values are always
/// sealed, whatever they look like.
fn seal(push: &mut PushSettings, link: &str, key: &MasterKey, rng: &dyn Rng, keep_sealed: bool) {
    for (element, secret) in secrets_mut(push) {
        if keep_sealed && secret.expose().starts_with(SEALED) {
            continue;
        }
        let sealed = key.seal_text(secret.expose(), &context(link, element), rng);
        *secret = Secret::new(format!("{SEALED}{sealed}"));
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
pub(crate) fn readable(stored_xml: &str, full_name: &str) -> Option<String> {
    let doc = xml::parse_str(stored_xml).ok()?;
    let Component::PushSettings(mut push) =
        Component::from_element(MetadataType::PushSettings, full_name, &doc.root)
    else {
        return None;
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
    Some(Component::PushSettings(push).to_xml())
}

/// The stored XML of a component as readers (`retrieve`, `readMetadata`) get it.
pub fn readable_xml(ty: MetadataType, full_name: &str, stored_xml: &str) -> String {
    match ty {
        MetadataType::PushSettings => {
            readable(stored_xml, full_name).unwrap_or_else(|| stored_xml.to_owned())
        }
        _ => stored_xml.to_owned(),
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
            seal(push, &link, self.ctx.master_key, self.ctx.rng, false);
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
            _ => find(self.ctx.store, &link_org, &link).await?,
        };
        let Some(target) = target else {
            return Ok(Some(Problem::error(format!(
                "In field: pushConfigLink - no push configuration `{link}` found: deploy the app's androidPushConfig or applePushConfig to create one"
            ))));
        };
        let kind = kind_of(&target);
        if let (Some(kind), Some(service)) = (kind, push.push_service_type.as_deref())
            && kind != service
        {
            return Ok(Some(Problem::error(format!(
                "In field: pushConfigLink - push configuration `{link}` holds {kind} credentials, but pushServiceType is {service}"
            ))));
        }
        Ok(None)
    }
}

/// The stored push settings of `org` that own record `link` (have its inline credentials).
async fn find(
    store: &dyn Store,
    org: &OrgId,
    link: &str,
) -> Result<Option<PushSettings>, DeployError> {
    for c in store
        .components_of_type(org, MetadataType::PushSettings.name())
        .await?
    {
        let Ok(doc) = xml::parse_str(&c.xml) else {
            continue;
        };
        if let Component::PushSettings(p) =
            Component::from_element(MetadataType::PushSettings, &c.full_name, &doc.root)
            && has_inline(&p)
            && p.push_config_link.as_deref() == Some(link)
        {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// The setting that says the audit trail's push credentials are sealed.
const AUDIT_SEALED: &str = "push_credentials.audit_sealed";

/// Seals the push credentials stored before they were sealed (a database written by an
/// earlier version): each such record gets its link and its secrets sealed, in place, with
/// its last change's user and time kept; so do the secrets in the audit trail's files, once.
/// Run at start-up, before requests are served; returns how many records and audit entries
/// were sealed. Another node sealing the same record at once makes this one skip it.
pub async fn seal_stored_push_credentials(
    store: &dyn Store,
    key: &MasterKey,
    rng: &dyn Rng,
) -> Result<u64, DeployError> {
    let mut sealed = seal_audit_trail(store, key, rng).await?;
    for org in store.orgs().await? {
        for c in store
            .components_of_type(&org.id, MetadataType::PushSettings.name())
            .await?
        {
            let doc = xml::parse_str(&c.xml).map_err(|e| {
                DeployError::Corrupt(format!(
                    "stored push settings {} do not parse: {e}",
                    c.full_name
                ))
            })?;
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
            seal(&mut push, &link, key, rng, true);
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
                Ok(()) => sealed += 1,
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(sealed)
}

/// Seals the push secrets of the audit trail's files, under `audit:<seq>` in place of a
/// link; once per database (the setting [`AUDIT_SEALED`]), since every entry written since
/// holds sealed values only.
async fn seal_audit_trail(
    store: &dyn Store,
    key: &MasterKey,
    rng: &dyn Rng,
) -> Result<u64, DeployError> {
    if store.setting(AUDIT_SEALED).await?.is_some() {
        return Ok(0);
    }
    let ty = MetadataType::PushSettings;
    let mut sealed = 0;
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
                seal(&mut push, &link, key, rng, true);
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
                sealed += 1;
            }
        }
    }
    store.put_setting(AUDIT_SEALED, "1").await?;
    Ok(sealed)
}
