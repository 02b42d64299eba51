//! The org's SAML service providers, read from the deployed metadata (issue 7, "Service
//! providers from metadata"): an app whose `ExtlClntAppSamlConfigurablePolicies` is deployed
//! is a service provider; its `ExtlClntAppConfigurablePolicies` switches it on and off
//! (`spec/metadata.md` §2.5, §7) and its header must be `Local` (§2.6, §6.5: SAML apps cannot
//! be packaged).
//!
//! **Loaded per request**, like the OAuth registry (`oauth/registry.rs`): a deploy that
//! changes a certificate or switches the plugin off takes effect on the very next request, on
//! every node.

use eca_core::OrgId;
use eca_metadata::MetadataType;
use eca_metadata::model::{
    AppPolicies, Component, CustomAttribute, DistributionState, Header, Plugin, SamlPolicies,
};
use eca_metadata::xml;
use eca_saml::{SamlError, ServiceProvider};
use eca_store::StoredComponent;

use crate::error::ApiError;
use crate::state::AppState;

/// One app with SAML policies.
#[derive(Debug, Clone)]
pub struct SamlApp {
    /// The app's API name (the header's full name).
    pub name: String,
    pub header: Option<Header>,
    pub policies: SamlPolicies,
    pub app_policies: Option<AppPolicies>,
}

impl SamlApp {
    /// The service provider the engine works with. A configuration that cannot be used (no
    /// ACS URL, a broken certificate) is an error page, never a Response.
    pub fn service_provider(&self) -> Result<ServiceProvider, SamlError> {
        ServiceProvider::from_policies(&self.policies)
    }

    /// Whether SSO into this app is switched on: the header exists and is `Local`
    /// (`spec/metadata.md` §2.6), the app has its `ExtlClntAppConfigurablePolicies` (§2.6:
    /// "the parent needs" one), and neither the app nor its SAML plugin is switched off
    /// (§2.5, §7; flags left out mean on).
    pub fn check_enabled(&self) -> Result<(), SamlError> {
        let is_local = self.header.as_ref().is_some_and(|h| {
            h.distribution_state
                .is_none_or(|d| d == DistributionState::Local)
        });
        let is_on = self
            .app_policies
            .as_ref()
            .is_some_and(|p| p.plugin_enabled(Plugin::Saml));
        if is_local && is_on {
            Ok(())
        } else {
            Err(SamlError::SamlDisabled)
        }
    }

    /// The custom attributes sent as attribute statements (`spec/metadata.md` §8).
    pub fn custom_attributes(&self) -> Vec<&CustomAttribute> {
        self.policies.custom_attributes.iter().collect()
    }
}

/// The app whose SAML policies name `entity_id` as `entityUrl` (exactly, SAML Core §8.3.6:
/// entity ids are URIs compared as strings). When several do (the deploy does not forbid
/// it), the first by app name answers.
pub async fn by_entity_id(
    state: &AppState,
    org: &OrgId,
    entity_id: &str,
) -> Result<Option<SamlApp>, ApiError> {
    let mut all = all_policies(state, org).await?;
    all.sort_by(|a, b| a.app.cmp(&b.app));
    let Some(policies) = all
        .into_iter()
        .find(|p| p.entity_url.as_deref().map(str::trim) == Some(entity_id))
    else {
        return Ok(None);
    };
    load(state, org, policies).await.map(Some)
}

/// The SAML app named `app`: its API name (case-insensitive, as Salesforce names are), or its
/// `orgScopedExternalApp` id (`<15-char org id>:<API name>`).
pub async fn by_app(state: &AppState, org: &OrgId, app: &str) -> Result<Option<SamlApp>, ApiError> {
    let name = match app.split_once(':') {
        Some((org_part, name)) if org_part == org.as_15() => name,
        Some(_) => return Ok(None),
        None => app,
    };
    let Some(policies) = all_policies(state, org)
        .await?
        .into_iter()
        .find(|p| p.app.eq_ignore_ascii_case(name))
    else {
        return Ok(None);
    };
    load(state, org, policies).await.map(Some)
}

async fn all_policies(state: &AppState, org: &OrgId) -> Result<Vec<SamlPolicies>, ApiError> {
    let stored = state
        .store()
        .components_of_type(org, MetadataType::SamlPolicies.name())
        .await?;
    let mut out = Vec::with_capacity(stored.len());
    for c in &stored {
        if let Component::SamlPolicies(p) = model(MetadataType::SamlPolicies, c)? {
            out.push(p);
        }
    }
    Ok(out)
}

async fn load(state: &AppState, org: &OrgId, policies: SamlPolicies) -> Result<SamlApp, ApiError> {
    let mut header = None;
    let mut app_policies = None;
    for c in state.store().components_of_app(org, &policies.app).await? {
        if let Some(ty @ (MetadataType::ExternalClientApplication | MetadataType::AppPolicies)) =
            MetadataType::from_name(&c.type_name)
        {
            match model(ty, &c)? {
                Component::Header(h) => header = Some(h),
                Component::AppPolicies(p) => app_policies = Some(p),
                _ => {}
            }
        }
    }
    Ok(SamlApp {
        name: header
            .as_ref()
            .map_or_else(|| policies.app.clone(), |h| h.full_name.clone()),
        header,
        policies,
        app_policies,
    })
}

fn model(ty: MetadataType, c: &StoredComponent) -> Result<Component, ApiError> {
    let doc = xml::parse_str(&c.xml).map_err(|e| {
        ApiError::Internal(format!(
            "stored component {} {} does not parse: {e}",
            c.type_name, c.full_name
        ))
    })?;
    Ok(Component::from_element(ty, &c.full_name, &doc.root))
}
