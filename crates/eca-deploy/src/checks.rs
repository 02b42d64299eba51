//! The checks a deploy makes against the org, beyond the offline validator
//! (`spec/metadata.md` §5.1, §5.5): every satellite names a header in the package or the org,
//! one component per app and type (the duplicate-policy error), global settings and the
//! plugins that need it have OAuth settings, run-as users, profiles and permission sets exist
//! in the org, and `oauthLink` names a consumer that exists.

use std::collections::HashMap;

use eca_core::domain::Permission;
use eca_core::{OrgId, PermissionSetId, ProfileId};
use eca_metadata::MetadataType;
use eca_metadata::model::{Component, OauthSettings};
use eca_store::ConsumerId;

use crate::DeployError;
use crate::plan::{Planner, Problem};
use crate::state::fold;

/// What the checks have read, so each user, profile and permission set is read once.
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    users: HashMap<String, Option<UserFacts>>,
    profiles: HashMap<String, bool>,
    permission_sets: HashMap<String, bool>,
}

#[derive(Debug, Clone, Copy)]
struct UserFacts {
    is_active: bool,
    is_api_only: bool,
}

/// The message Salesforce gives for global OAuth settings without OAuth settings (§5.5).
pub(crate) const GLOBAL_WITHOUT_OAUTH: &str = "The external client app configured in your global OAuth Settings doesn't have a valid OAuth settings configuration.";

impl Planner<'_> {
    /// The org-side problems of item `i` (whose component parsed).
    pub(crate) async fn org_checks(&mut self, i: usize) -> Result<Vec<Problem>, DeployError> {
        let Some(component) = self.items[i].component.clone() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        if let (Some(app), false) = (component.app(), matches!(component, Component::Header(_))) {
            self.check_satellite(i, app, &component, &mut out);
        }
        match &component {
            Component::GlobalOauthSettings(g)
                if self
                    .state
                    .of_app(&g.app, MetadataType::OauthSettings)
                    .is_none() =>
            {
                out.push(Problem::error(GLOBAL_WITHOUT_OAUTH));
            }
            Component::NotificationSettings(_) | Component::PushSettings(_) => {
                let app = component.app().unwrap_or_default();
                if self
                    .state
                    .of_app(app, MetadataType::OauthSettings)
                    .is_none()
                {
                    out.push(Problem::error(format!(
                        "{} needs the OAuth plugin, and app `{app}` has no OAuth settings in this package or the org",
                        component.ty().name()
                    )));
                }
            }
            Component::OauthPolicies(p) => {
                if let Some(user) = &p.client_credentials_flow_user {
                    out.extend(
                        self.user_problem("clientCredentialsFlowUser", user, true)
                            .await?,
                    );
                }
                if let Some(user) = &p.execute_handler_as {
                    out.extend(self.user_problem("executeHandlerAs", user, false).await?);
                }
                out.extend(
                    self.access_problems(&p.profiles(), &p.permission_sets())
                        .await?,
                );
            }
            Component::SamlPolicies(p) => {
                out.extend(
                    self.access_problems(&p.profiles(), &p.permission_sets())
                        .await?,
                );
            }
            Component::OauthSettings(o) => out.extend(self.link_problems(o).await?),
            _ => {}
        }
        Ok(out)
    }

    /// A satellite needs its header, and may not be a second component of its type for the app.
    fn check_satellite(&self, i: usize, app: &str, component: &Component, out: &mut Vec<Problem>) {
        let lower = fold(app);
        if self
            .state
            .of_app(app, MetadataType::ExternalClientApplication)
            .is_none()
        {
            out.push(Problem::error(match self.deleted_apps.get(&lower) {
                Some((name, kind)) => format!(
                    "ExternalClientApplication {name} is deleted by {} before this component is deployed: deploy the header in the same package to recreate the app",
                    kind.file_name()
                ),
                None => format!(
                    "In field: externalClientApplication - no ExternalClientApplication named {app} found"
                ),
            }));
            return;
        }
        // A name is unique in the org: the stored component of another app keeps it, even
        // when this deploy deletes it (the other app's plan still names it).
        if let Some(own) = self.items[i].key()
            && let Some(owner) = self
                .state
                .stored_app(&own)
                .filter(|owner| fold(owner) != lower)
        {
            let (ty, name) = (component.ty().name(), &self.items[i].full_name);
            out.push(Problem::error(if self.state.current(&own).is_some() {
                format!(
                    "In field: fullName - {ty} {name} belongs to ExternalClientApplication {owner}: give this app's component another name"
                )
            } else {
                format!(
                    "In field: fullName - {ty} {name} belonged to ExternalClientApplication {owner} and is deleted by this deploy: deploy it for this app in a later deploy, or give it another name"
                )
            }));
            return;
        }
        if let (Some((k, existing)), Some(own)) =
            (self.state.of_app(app, component.ty()), self.items[i].key())
            && *k != own
        {
            // One record per app and plugin (§4): Salesforce's unique index answers.
            out.push(Problem::error(format!(
                "duplicate value found: ExternalClientApplicationId duplicates value on {}",
                existing.full_name()
            )));
        }
    }

    async fn user_problem(
        &mut self,
        field: &str,
        username: &str,
        needs_api_only: bool,
    ) -> Result<Vec<Problem>, DeployError> {
        let facts = match self.lookups.users.get(&fold(username)) {
            Some(facts) => *facts,
            None => {
                let facts = self.user_facts(username).await?;
                self.lookups.users.insert(fold(username), facts);
                facts
            }
        };
        Ok(match facts {
            None => vec![Problem::error(format!(
                "In field: {field} - no User named {username} found"
            ))],
            Some(f) if !f.is_active => vec![Problem::error(format!(
                "In field: {field} - the user {username} is inactive"
            ))],
            // The docs require the API Only permission of the run-as user (§2.4); a warning, so
            // it stops the deploy unless warnings are ignored.
            Some(f) if needs_api_only && !f.is_api_only => vec![Problem::warning(format!(
                "In field: {field} - the user {username} does not have the API Only User permission that the client credentials run-as user needs"
            ))],
            Some(_) => Vec::new(),
        })
    }

    async fn user_facts(&self, username: &str) -> Result<Option<UserFacts>, DeployError> {
        let store = self.ctx.store;
        let Some(user) = store.user_by_username(username).await? else {
            return Ok(None);
        };
        if &user.org_id != self.ctx.org {
            return Ok(None);
        }
        let mut is_api_only = store
            .profile(&user.profile_id)
            .await?
            .is_some_and(|p| p.permissions.contains(Permission::ApiOnly));
        if !is_api_only {
            is_api_only = store
                .permission_sets_of(&user.id)
                .await?
                .iter()
                .any(|s| s.permissions.contains(Permission::ApiOnly));
        }
        Ok(Some(UserFacts {
            is_active: user.is_active,
            is_api_only,
        }))
    }

    /// Pre-authorized profiles and permission sets must exist in the org, named (as real files
    /// do) or by id (as the docs say).
    async fn access_problems(
        &mut self,
        profiles: &[&str],
        permission_sets: &[&str],
    ) -> Result<Vec<Problem>, DeployError> {
        let (store, org) = (self.ctx.store, self.ctx.org);
        let mut out = Vec::new();
        for name in profiles {
            let exists = match self.lookups.profiles.get(&fold(name)) {
                Some(e) => *e,
                None => {
                    let exists = match ProfileId::parse(name) {
                        Ok(id) => store.profile(&id).await?.is_some_and(|p| &p.org_id == org),
                        Err(_) => store.profile_by_name(org, name).await?.is_some(),
                    };
                    self.lookups.profiles.insert(fold(name), exists);
                    exists
                }
            };
            if !exists {
                out.push(Problem::error(format!(
                    "In field: commaSeparatedProfile - no Profile named {name} found"
                )));
            }
        }
        for name in permission_sets {
            let exists = match self.lookups.permission_sets.get(&fold(name)) {
                Some(e) => *e,
                None => {
                    let exists = match PermissionSetId::parse(name) {
                        Ok(id) => store
                            .permission_set(&id)
                            .await?
                            .is_some_and(|p| &p.org_id == org),
                        Err(_) => store.permission_set_by_name(org, name).await?.is_some(),
                    };
                    self.lookups.permission_sets.insert(fold(name), exists);
                    exists
                }
            };
            if !exists {
                out.push(Problem::error(format!(
                    "In field: commaSeparatedPermissionSet - no PermissionSet named {name} found"
                )));
            }
        }
        Ok(out)
    }

    /// `oauthLink` must name a consumer that exists (§5.1 item 5): the app's own, or another
    /// org's when the app has no global settings here (association).
    async fn link_problems(&self, o: &OauthSettings) -> Result<Vec<Problem>, DeployError> {
        let Some(link) = o.oauth_link.as_deref() else {
            return Ok(Vec::new());
        };
        let parsed = link.split_once(':').and_then(|(org, consumer)| {
            Some((OrgId::parse(org).ok()?, ConsumerId::parse(consumer).ok()?))
        });
        let Some((link_org, id)) = parsed else {
            return Ok(vec![Problem::error(format!(
                "In field: oauthLink - `{link}` is not `<org id>:<888… consumer id>`: remove it and the link is generated"
            ))]);
        };
        let own = self.state.own_consumer(&o.app);
        if own.is_some_and(|c| c.id == id) {
            return Ok(Vec::new());
        }
        let dangling = || {
            vec![Problem::error(format!(
                "In field: oauthLink - no OAuth consumer {} found: remove oauthLink, and deploy the app's global OAuth settings to create one",
                id.as_15()
            ))]
        };
        if self.state.is_deleted_consumer(&id) {
            return Ok(dangling());
        }
        let Some(consumer) = self.ctx.store.consumer(&id).await? else {
            return Ok(dangling());
        };
        if consumer.org_id != link_org {
            return Ok(dangling());
        }
        let app = fold(&o.app);
        if &consumer.org_id == self.ctx.org {
            if fold(&consumer.app_name) != app {
                return Ok(vec![Problem::error(format!(
                    "In field: oauthLink - consumer {} belongs to app {}, not {}",
                    id.as_15(),
                    consumer.app_name,
                    o.app
                ))]);
            }
            return Ok(Vec::new());
        }
        // Another org's consumer: allowed only while the app has no consumer of its own here.
        let has_global = own.is_some()
            || self.items.iter().any(|item| {
                item.ty == Some(MetadataType::GlobalOauthSettings)
                    && !item.failed
                    && item.app().as_deref() == Some(app.as_str())
            });
        if has_global {
            return Ok(vec![Problem::error(format!(
                "In field: oauthLink - `{link}` names another org's consumer, but app {} has its own global OAuth settings here: remove oauthLink to link the app to them",
                o.app
            ))]);
        }
        Ok(Vec::new())
    }
}
