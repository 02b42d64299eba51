//! What the org holds, as a deploy sees it while it plans: the stored components of the apps
//! the deploy touches (read once), what each will be after the deploy, and the apps' OAuth
//! consumers. Nothing here writes; the plan is turned into one change set at the end.

use std::collections::{BTreeSet, HashMap, HashSet};

use eca_core::OrgId;
use eca_metadata::MetadataType;
use eca_metadata::model::Component;
use eca_metadata::xml;
use eca_store::{ConsumerId, OauthConsumer, Store, StoredComponent};

use crate::DeployError;

/// A component's identity: its type and its lower-cased full name (names are unique
/// case-insensitively, as on Salesforce).
pub(crate) type Key = (MetadataType, String);

pub(crate) fn key(ty: MetadataType, full_name: &str) -> Key {
    (ty, fold(full_name))
}

pub(crate) fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// The app a component belongs to: a header is its own app; the org settings have none.
pub(crate) fn app_of(component: &Component) -> Option<&str> {
    match component {
        Component::Header(h) => Some(&h.full_name),
        other => other.app(),
    }
}

/// One component: as stored, and as it will be.
#[derive(Debug)]
pub(crate) struct Slot {
    pub stored: Option<StoredComponent>,
    /// The stored XML, parsed.
    pub stored_model: Option<Component>,
    /// What the org holds after the deploy; `None` once deleted.
    pub current: Option<Component>,
    /// Whether the deploy changed `current` (only touched slots are written).
    pub touched: bool,
}

/// One OAuth consumer, as it will be.
#[derive(Debug)]
pub(crate) struct ConsumerSlot {
    pub consumer: OauthConsumer,
    /// The key as read from the store (a rotation's change applies only if it still is).
    pub stored_key: String,
    /// Whether it exists in the store (otherwise the deploy creates it).
    pub stored: bool,
    pub deleted: bool,
    pub key_rotated: bool,
    pub secret_rotated: bool,
}

/// The org, as far as the deploy has read it.
#[derive(Debug, Default)]
pub(crate) struct OrgState {
    pub slots: HashMap<Key, Slot>,
    /// Loaded apps (lower-cased name) and the keys of their components.
    apps: HashMap<String, BTreeSet<Key>>,
    /// Lookups by key of components without an app that were read.
    read_keys: HashSet<Key>,
    /// Each loaded app's consumers in this org, oldest first.
    pub consumers: HashMap<String, Vec<ConsumerSlot>>,
}

impl OrgState {
    /// Reads an app's components and consumers, once.
    pub async fn load_app(
        &mut self,
        store: &dyn Store,
        org: &OrgId,
        app: &str,
    ) -> Result<(), DeployError> {
        let lower = fold(app);
        if self.apps.contains_key(&lower) {
            return Ok(());
        }
        self.apps.insert(lower.clone(), BTreeSet::new());
        for stored in store.components_of_app(org, app).await? {
            self.insert_stored(stored)?;
        }
        let consumers = store.consumers_of_app(org, app).await?;
        self.consumers.insert(
            lower,
            consumers
                .into_iter()
                .map(|consumer| ConsumerSlot {
                    stored_key: consumer.consumer_key.clone(),
                    consumer,
                    stored: true,
                    deleted: false,
                    key_rotated: false,
                    secret_rotated: false,
                })
                .collect(),
        );
        Ok(())
    }

    /// Reads one component (and its whole app), once.
    pub async fn load_component(
        &mut self,
        store: &dyn Store,
        org: &OrgId,
        ty: MetadataType,
        full_name: &str,
    ) -> Result<(), DeployError> {
        let k = key(ty, full_name);
        if self.slots.contains_key(&k) || !self.read_keys.insert(k) {
            return Ok(());
        }
        if let Some(stored) = store.component(org, ty.name(), full_name).await? {
            match stored.app_name.clone() {
                Some(app) => self.load_app(store, org, &app).await?,
                None => self.insert_stored(stored)?,
            }
        }
        Ok(())
    }

    fn insert_stored(&mut self, stored: StoredComponent) -> Result<(), DeployError> {
        let ty = MetadataType::from_name(&stored.type_name).ok_or_else(|| {
            DeployError::Corrupt(format!("unknown stored type `{}`", stored.type_name))
        })?;
        let doc = xml::parse_str(&stored.xml).map_err(|e| {
            DeployError::Corrupt(format!("{} {}: {e}", stored.type_name, stored.full_name))
        })?;
        let model = Component::from_element(ty, &stored.full_name, &doc.root);
        let k = key(ty, &stored.full_name);
        // A slot already planned keeps its plan: reading it again (another app's load) must
        // not put the stored component back over it, nor list it under that app.
        if self.slots.contains_key(&k) {
            return Ok(());
        }
        if let Some(app) = &stored.app_name {
            self.apps.entry(fold(app)).or_default().insert(k.clone());
        }
        self.slots.insert(
            k,
            Slot {
                stored: Some(stored),
                stored_model: Some(model.clone()),
                current: Some(model),
                touched: false,
            },
        );
        Ok(())
    }

    /// What the org will hold under `key`.
    pub fn current(&self, k: &Key) -> Option<&Component> {
        self.slots.get(k).and_then(|s| s.current.as_ref())
    }

    /// The component of type `ty` the app will have, if any.
    pub fn of_app(&self, app: &str, ty: MetadataType) -> Option<(&Key, &Component)> {
        self.apps
            .get(&fold(app))?
            .iter()
            .filter(|k| k.0 == ty)
            .find_map(|k| self.current(k).map(|c| (k, c)))
    }

    /// The keys of the components the app will still have.
    pub fn app_keys(&self, app: &str) -> Vec<Key> {
        self.apps
            .get(&fold(app))
            .map(|keys| {
                keys.iter()
                    .filter(|k| self.current(k).is_some())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Replaces what the org will hold under the component's key (or, with `None`, deletes
    /// it); returns what it held before.
    pub fn set(&mut self, k: Key, component: Option<Component>) -> Option<Component> {
        if let Some(app) = component.as_ref().and_then(app_of) {
            self.apps.entry(fold(app)).or_default().insert(k.clone());
        }
        let slot = self.slots.entry(k).or_insert_with(|| Slot {
            stored: None,
            stored_model: None,
            current: None,
            touched: false,
        });
        slot.touched = true;
        std::mem::replace(&mut slot.current, component)
    }

    /// The app the stored component under `key` belonged to before the deploy, if it was read.
    pub fn stored_app(&self, k: &Key) -> Option<&str> {
        self.slots
            .get(k)
            .and_then(|s| s.stored.as_ref())
            .and_then(|s| s.app_name.as_deref())
    }

    /// The stored model under `key`, if there was one before the deploy.
    pub fn stored_model(&self, k: &Key) -> Option<&Component> {
        self.slots.get(k).and_then(|s| s.stored_model.as_ref())
    }

    /// The app's consumer in this org (the oldest one left), if any.
    pub fn own_consumer(&self, app: &str) -> Option<&OauthConsumer> {
        self.consumers
            .get(&fold(app))?
            .iter()
            .find(|c| !c.deleted)
            .map(|c| &c.consumer)
    }

    pub fn own_consumer_mut(&mut self, app: &str) -> Option<&mut ConsumerSlot> {
        self.consumers
            .get_mut(&fold(app))?
            .iter_mut()
            .find(|c| !c.deleted)
    }

    /// Deletes every consumer of the app; returns their ids.
    pub fn delete_consumers(&mut self, app: &str) -> Vec<ConsumerId> {
        let Some(list) = self.consumers.get_mut(&fold(app)) else {
            return Vec::new();
        };
        list.iter_mut()
            .filter(|c| !c.deleted)
            .map(|c| {
                c.deleted = true;
                c.consumer.id.clone()
            })
            .collect()
    }

    /// Whether the consumer is deleted by this deploy.
    pub fn is_deleted_consumer(&self, id: &ConsumerId) -> bool {
        self.consumers
            .values()
            .flatten()
            .any(|c| c.deleted && &c.consumer.id == id)
    }
}
