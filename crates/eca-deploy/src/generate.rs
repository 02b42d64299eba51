//! What the platform generates when an app is deployed (`spec/metadata.md` §4.2, §5.2): the
//! header's `orgScopedExternalApp`, the OAuth consumer (`888…` id, `3MVG9…` key, secret)
//! behind the global OAuth settings, the OAuth settings' `oauthLink` and
//! `isFirstPartyAppEnabled`, and the default policy records when the app has none.
//!
//! Consumer credentials: a `consumerKey`/`consumerSecret` written in the global settings is
//! taken on the app's first deploy, with a warning (fixed credentials for test and CI orgs);
//! afterwards they change only through `shouldRotateConsumerKey/Secret`, which replace them at
//! once and, being warnings, need `ignoreWarnings` (§2.3, §5.1 item 7). The secret is never
//! kept in the component: only encrypted, under the master key, in the consumer row.

use eca_core::Secret;
use eca_metadata::MetadataType;
use eca_metadata::model::{
    AppPolicies, Component, GlobalOauthSettings, OauthPolicies, OauthSettings,
};
use eca_oauth::tokens;
use eca_store::{ConsumerId, OauthConsumer};

use crate::DeployError;
use crate::plan::{Planner, Problem, stops};
use crate::state::{ConsumerSlot, fold, key};

/// What the deploy does to the app's consumer.
enum ConsumerPlan {
    Create(OauthConsumer),
    Rotate {
        key: Option<String>,
        encrypted_secret: Option<Vec<u8>>,
    },
}

/// A consumer key or secret written in a file: printable ASCII without spaces, at most 256
/// characters (Salesforce's are 85 and 64; sfdx-hardis writes 119).
fn is_valid_credential(value: &str) -> bool {
    (1..=256).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic())
}

impl Planner<'_> {
    /// Generated values of app `app` (lower-cased), once its components are deployed.
    pub(crate) async fn finish_app(&mut self, app: &str) -> Result<(), DeployError> {
        if let Some(i) = self.deployed_item(app, MetadataType::GlobalOauthSettings) {
            self.settle_consumer(i, app).await?;
        }
        if !self.deploys_app(app) {
            return Ok(());
        }
        let org15 = self.ctx.org.as_15().to_owned();

        let header = match self
            .state
            .of_app(app, MetadataType::ExternalClientApplication)
        {
            Some((k, Component::Header(h))) => Some((k.clone(), h.clone())),
            _ => None,
        };
        if let Some((k, mut h)) = header.clone()
            && h.org_scoped_external_app.is_none()
        {
            let stored = match self.state.stored_model(&k) {
                Some(Component::Header(s)) => s.org_scoped_external_app.clone(),
                _ => None,
            };
            h.org_scoped_external_app =
                Some(stored.unwrap_or_else(|| format!("{org15}:{}", h.full_name)));
            self.state.set(k, Some(Component::Header(h)));
        }

        let oauth = match self.state.of_app(app, MetadataType::OauthSettings) {
            Some((k, Component::OauthSettings(o))) => Some((k.clone(), o.clone())),
            _ => None,
        };
        if let Some((k, o)) = &oauth {
            let mut linked = o.clone();
            if self
                .deployed_item(app, MetadataType::OauthSettings)
                .is_some()
            {
                linked.is_first_party_app_enabled.get_or_insert(false);
            }
            // Global settings deployed to an app that was associated with another org's
            // consumer give it its own: the stored link moves to the new consumer (§6.4).
            let new_consumer = self
                .state
                .consumers
                .get(app)
                .and_then(|list| list.iter().find(|c| !c.deleted))
                .is_some_and(|c| !c.stored);
            if new_consumer
                && self
                    .deployed_item(app, MetadataType::OauthSettings)
                    .is_none()
            {
                linked.oauth_link = None;
            }
            if linked.oauth_link.is_none() {
                linked.oauth_link = match self.state.own_consumer(app) {
                    Some(c) => Some(format!("{org15}:{}", c.id.as_15())),
                    // An app associated with another org's consumer keeps its link.
                    None => match self.state.stored_model(k) {
                        Some(Component::OauthSettings(s)) => s.oauth_link.clone(),
                        _ => None,
                    },
                };
            }
            if &linked != o {
                self.state
                    .set(k.clone(), Some(Component::OauthSettings(linked)));
            }
        }

        // Default policies, only when the app has none: an admin's policies are never replaced
        // by a developer's redeploy (§5.2).
        if let Some((_, h)) = &header
            && self.state.of_app(app, MetadataType::AppPolicies).is_none()
        {
            let name = format!("{}_defaultPolicy", h.full_name);
            let policies = AppPolicies::default_for(&h.full_name, &name);
            self.generate(Component::AppPolicies(policies)).await?;
        }
        if let Some((_, o)) = &oauth
            && self
                .state
                .of_app(app, MetadataType::OauthPolicies)
                .is_none()
        {
            self.generate(Component::OauthPolicies(self.default_oauth_policies(o)))
                .await?;
        }
        Ok(())
    }

    /// `<OAuthSettingsName>_defaultPolicy` with the §5.2 values and, as developer defaults, the
    /// custom attributes declared in the OAuth settings (§8).
    fn default_oauth_policies(&self, o: &OauthSettings) -> OauthPolicies {
        let name = format!("{}_defaultPolicy", o.full_name);
        OauthPolicies {
            custom_attributes: o.custom_attributes.clone(),
            ..OauthPolicies::default_for(&o.app, &name, self.version)
        }
    }

    /// Adds a generated component, unless its name is taken by another app's component.
    async fn generate(&mut self, component: Component) -> Result<(), DeployError> {
        let ty = component.ty();
        self.state
            .load_component(self.ctx.store, self.ctx.org, ty, component.full_name())
            .await?;
        let k = key(ty, component.full_name());
        if self.state.current(&k).is_none() {
            self.state.set(k, Some(component));
        }
        Ok(())
    }

    /// The consumer behind deployed global settings (item `i`): created on the first deploy,
    /// rotated on request. Problems that stop it take the item back.
    async fn settle_consumer(&mut self, i: usize, app: &str) -> Result<(), DeployError> {
        let Some(k) = self.items[i].key() else {
            return Ok(());
        };
        let Some(Component::GlobalOauthSettings(mut g)) = self.state.current(&k).cloned() else {
            return Ok(());
        };
        let mut problems = Vec::new();
        if g.client_credentials_enabled() {
            let has_user = matches!(
                self.state.of_app(app, MetadataType::OauthPolicies),
                Some((_, Component::OauthPolicies(p)))
                    if p.client_credentials_enabled() && p.client_credentials_flow_user.is_some()
            );
            if !has_user {
                problems.push(Problem::warning(format!(
                    "client credentials are enabled for `{}`, but its OAuth policies name no run-as user: deploy the .ecaOauthPlcy file with isClientCredentialsFlowEnabled and clientCredentialsFlowUser",
                    g.app
                )));
            }
        }
        let plan = self.consumer_plan(app, &mut g, &mut problems).await?;
        if stops(&problems, &self.options) {
            self.undo(i, problems);
            return Ok(());
        }
        self.items[i].problems.extend(problems);
        match plan {
            ConsumerPlan::Create(consumer) => {
                self.planned_keys.push(consumer.consumer_key.clone());
                self.state
                    .consumers
                    .entry(fold(app))
                    .or_default()
                    .push(ConsumerSlot {
                        stored_key: consumer.consumer_key.clone(),
                        consumer,
                        stored: false,
                        deleted: false,
                        key_rotated: false,
                        secret_rotated: false,
                    });
            }
            ConsumerPlan::Rotate {
                key,
                encrypted_secret,
            } => {
                if let Some(new_key) = &key {
                    self.planned_keys.push(new_key.clone());
                }
                if let Some(slot) = self.state.own_consumer_mut(app) {
                    if let Some(new_key) = key {
                        slot.consumer.consumer_key = new_key;
                        slot.key_rotated = true;
                    }
                    if let Some(secret) = encrypted_secret {
                        slot.consumer.encrypted_secret = secret;
                        slot.secret_rotated = true;
                    }
                }
            }
        }
        self.state.set(k, Some(Component::GlobalOauthSettings(g)));
        Ok(())
    }

    /// Decides the consumer's credentials and writes the key (never the secret) into `g`.
    async fn consumer_plan(
        &mut self,
        app: &str,
        g: &mut GlobalOauthSettings,
        problems: &mut Vec<Problem>,
    ) -> Result<ConsumerPlan, DeployError> {
        let (rng, now) = (self.ctx.rng, self.ctx.clock.now());
        let supplied_key = g.consumer_key.take().filter(|k| !k.is_empty());
        let supplied_secret = g.consumer_secret.take().filter(|s| !s.is_empty());
        let rotate_key = g.should_rotate_consumer_key == Some(true);
        let rotate_secret = g.should_rotate_consumer_secret == Some(true);
        // The flags act once; what is stored (and retrieved) says `false`.
        if rotate_key {
            g.should_rotate_consumer_key = Some(false);
        }
        if rotate_secret {
            g.should_rotate_consumer_secret = Some(false);
        }

        let plan = match self.state.own_consumer(app).cloned() {
            None => {
                let consumer_key = match supplied_key {
                    Some(k) => {
                        problems.extend(self.supplied_key_problems(&k).await?);
                        k
                    }
                    None => tokens::consumer_key(rng),
                };
                let secret = match supplied_secret {
                    Some(s) => {
                        if !is_valid_credential(s.expose()) {
                            problems.push(Problem::error(
                                "In field: consumerSecret - use 1 to 256 printable characters without spaces",
                            ));
                        }
                        problems.push(Problem::warning(
                            "consumerSecret is taken from the file, as it is on the first deploy only; it is kept encrypted and never retrieved, so keep it out of source control",
                        ));
                        Secret::new(s.expose())
                    }
                    None => tokens::consumer_secret(rng),
                };
                let id = ConsumerId::generate(rng);
                let encrypted_secret = self.ctx.master_key.encrypt(
                    secret.expose().as_bytes(),
                    id.as_str().as_bytes(),
                    rng,
                );
                g.consumer_key = Some(consumer_key.clone());
                ConsumerPlan::Create(OauthConsumer {
                    id,
                    org_id: self.ctx.org.clone(),
                    app_name: g.app.clone(),
                    consumer_key,
                    encrypted_secret,
                    created_at: now,
                    updated_at: now,
                })
            }
            Some(current) => {
                let mut key = None;
                if rotate_key {
                    problems.push(Problem::warning(
                        "shouldRotateConsumerKey: the consumer key is replaced now, and clients using the old key stop working",
                    ));
                    key = Some(tokens::consumer_key(rng));
                } else if supplied_key
                    .as_ref()
                    .is_some_and(|k| *k != current.consumer_key)
                {
                    problems.push(Problem::error(
                        "In field: consumerKey - the consumer key cannot change after the first deploy: leave it out, or set shouldRotateConsumerKey to true (with ignoreWarnings) for a new one",
                    ));
                }
                let mut encrypted_secret = None;
                if rotate_secret {
                    problems.push(Problem::warning(
                        "shouldRotateConsumerSecret: the consumer secret is replaced now, and clients using the old secret stop working",
                    ));
                    let secret = tokens::consumer_secret(rng);
                    encrypted_secret = Some(self.ctx.master_key.encrypt(
                        secret.expose().as_bytes(),
                        current.id.as_str().as_bytes(),
                        rng,
                    ));
                } else if let Some(s) = supplied_secret {
                    let stored = self
                        .ctx
                        .master_key
                        .decrypt(&current.encrypted_secret, current.id.as_str().as_bytes())
                        .map_err(|e| {
                            DeployError::Corrupt(format!("consumer {}: {e}", current.id))
                        })?;
                    if stored != s.expose().as_bytes() {
                        problems.push(Problem::error(
                            "In field: consumerSecret - the consumer secret cannot change after the first deploy: leave it out, or set shouldRotateConsumerSecret to true (with ignoreWarnings) for a new one",
                        ));
                    }
                }
                g.consumer_key = Some(key.clone().unwrap_or_else(|| current.consumer_key.clone()));
                ConsumerPlan::Rotate {
                    key,
                    encrypted_secret,
                }
            }
        };
        Ok(plan)
    }

    /// A key from the file must look like a key and be free across the server.
    async fn supplied_key_problems(&self, k: &str) -> Result<Vec<Problem>, DeployError> {
        if !is_valid_credential(k) {
            return Ok(vec![Problem::error(
                "In field: consumerKey - use 1 to 256 printable characters without spaces",
            )]);
        }
        let taken_here = self.planned_keys.iter().any(|p| p == k);
        let taken = match self.ctx.store.consumer_by_key(k).await? {
            Some(c) => !self.state.is_deleted_consumer(&c.id),
            // A staged or rotated credential's key is a client_id too (the Connect credentials
            // API); primary keys are looked up first, so taking it would take its clients.
            None => self
                .ctx
                .store
                .staged_credential_by_key(k)
                .await?
                .is_some_and(|c| !self.state.is_deleted_consumer(&c.consumer_id)),
        };
        if taken || taken_here {
            return Ok(vec![Problem::error(
                "In field: consumerKey - this consumer key is already used by another External Client App",
            )]);
        }
        Ok(vec![Problem::warning(
            "consumerKey is taken from the file, as it is on the first deploy only: later it changes only with shouldRotateConsumerKey (with ignoreWarnings) or the credentials API",
        )])
    }
}
