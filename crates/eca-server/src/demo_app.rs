//! The sample app `eca serve --demo` deploys, so a newcomer can try the OAuth flows at once:
//! `Demo_App`, a Local External Client App with the web server flow (PKCE), refresh tokens,
//! the device flow and client credentials running as `integration@demo.example`.
//!
//! It goes through the same deploy engine as any other deploy. Its consumer key and secret
//! are chosen here and written into the global settings of that first deploy (accepted once,
//! as a reproducible environment needs: `spec/metadata.md` §2.3), so `eca serve` can print the
//! secret once; it is stored only encrypted.

use eca_core::domain::Org;
use eca_core::rng;
use eca_core::{Clock, Rng, Secret};
use eca_deploy::{DeployContext, DeployOptions, OrgLocks};
use eca_metadata::ApiVersion;
use eca_metadata::catalog::MetadataType;
use eca_metadata::project::{Layout, Project, ProjectFile, convert};
use eca_metadata::xml::{Element, write_canonical};
use eca_store::Store;

use crate::bootstrap::{ADMIN_USERNAME, INTEGRATION_USERNAME, StartError};

/// The sample app's API name.
pub const DEMO_APP: &str = "Demo_App";

/// The callback URLs of the sample app: the Salesforce CLI's local listener and a local web app.
const CALLBACKS: &str = "http://localhost:1717/OauthRedirect\nhttp://localhost:8080/callback";

/// The sample app's credentials, shown once by `eca serve`.
#[derive(Debug)]
pub struct DemoApp {
    pub name: &'static str,
    pub consumer_key: String,
    pub consumer_secret: Secret,
}

/// Deploys the sample app into `org` unless it is there already. Returns its credentials
/// when this call created it.
pub async fn ensure_demo_app(
    store: &dyn Store,
    org: &Org,
    clock: &dyn Clock,
    rng: &dyn Rng,
    master_key: &eca_core::crypto::MasterKey,
    node: &str,
) -> Result<Option<DemoApp>, StartError> {
    let header = MetadataType::ExternalClientApplication.name();
    if store.component(&org.id, header, DEMO_APP).await?.is_some() {
        return Ok(None);
    }
    let Some(admin) = store.user_by_username(ADMIN_USERNAME).await? else {
        return Ok(None);
    };
    let consumer_key = format!("3MVG9{}", rng::string_from(rng, ALNUM_DOT, 80));
    let consumer_secret = Secret::new(rng::string_from(rng, b"0123456789ABCDEF", 64));
    let project = demo_project(&consumer_key, &consumer_secret);
    let zip = convert::mdapi_zip(&project).map_err(|e| StartError::DemoApp(e.to_string()))?;
    let locks = OrgLocks::default();
    let ctx = DeployContext {
        store,
        org: &org.id,
        user: &admin.id,
        clock,
        rng,
        master_key,
        locks: &locks,
        version: ApiVersion::DEFAULT,
        node,
    };
    let options = DeployOptions {
        // The supplied key and secret are reported as a warning on a first deploy.
        ignore_warnings: true,
        ..DeployOptions::default()
    };
    let outcome = eca_deploy::deploy(&ctx, &zip, options)
        .await
        .map_err(|e| StartError::DemoApp(e.to_string()))?;
    // Another node starting on the same empty database deployed it first: theirs is the app.
    if !outcome.result.success && store.component(&org.id, header, DEMO_APP).await?.is_some() {
        return Ok(None);
    }
    if !outcome.result.success {
        let problems: Vec<String> = outcome
            .result
            .details
            .component_failures
            .iter()
            .map(|f| {
                format!(
                    "{}: {}",
                    f.file_name,
                    f.problem.as_deref().unwrap_or("failed")
                )
            })
            .collect();
        return Err(StartError::DemoApp(problems.join("; ")));
    }
    tracing::info!(app = DEMO_APP, org = %org.id, "deployed the sample app");
    Ok(Some(DemoApp {
        name: DEMO_APP,
        consumer_key,
        consumer_secret,
    }))
}

/// Consumer-key characters, as Salesforce's `3MVG9…` keys use them.
const ALNUM_DOT: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";

fn leaf(name: &str, value: &str) -> Element {
    Element::leaf(name, value)
}

fn file(ty: MetadataType, full_name: &str, children: Vec<Element>) -> ProjectFile {
    let xml = write_canonical(&Element::node(ty.name(), children));
    ProjectFile {
        ty,
        full_name: full_name.to_owned(),
        path: format!("{}/{}", ty.directory(), ty.mdapi_file_name(full_name)).into(),
        bytes: xml.into_bytes(),
        package_dir: None,
    }
}

/// The five files of the sample app, named as the platform names generated policies.
fn demo_project(consumer_key: &str, consumer_secret: &Secret) -> Project {
    let oauth = format!("{DEMO_APP}_oauth");
    let files = vec![
        file(
            MetadataType::ExternalClientApplication,
            DEMO_APP,
            vec![
                leaf("contactEmail", ADMIN_USERNAME),
                leaf("description", "Sample app created by eca serve --demo"),
                leaf("distributionState", "Local"),
                leaf("isProtected", "false"),
                leaf("label", "Demo App"),
            ],
        ),
        file(
            MetadataType::OauthSettings,
            &oauth,
            vec![
                leaf(
                    "commaSeparatedOauthScopes",
                    "Api, Web, RefreshToken, OpenID, Profile, Email",
                ),
                leaf("externalClientApplication", DEMO_APP),
                leaf("isFirstPartyAppEnabled", "false"),
                leaf("label", &oauth),
            ],
        ),
        file(
            MetadataType::GlobalOauthSettings,
            &format!("{DEMO_APP}_glbloauth"),
            vec![
                leaf("callbackUrl", CALLBACKS),
                leaf("consumerKey", consumer_key),
                leaf("consumerSecret", consumer_secret.expose()),
                leaf("externalClientApplication", DEMO_APP),
                leaf("isClientCredentialsFlowEnabled", "true"),
                leaf("isConsumerSecretOptional", "false"),
                leaf("isDeviceFlowEnabled", "true"),
                leaf("isIntrospectAllTokens", "false"),
                leaf("isPkceRequired", "true"),
                leaf("isRefreshTokenRotationEnabled", "true"),
                leaf("isSecretRequiredForRefreshToken", "true"),
                leaf("label", &format!("{DEMO_APP}_glbloauth")),
            ],
        ),
        file(
            MetadataType::OauthPolicies,
            &format!("{oauth}_defaultPolicy"),
            vec![
                leaf("clientCredentialsFlowUser", INTEGRATION_USERNAME),
                leaf("externalClientApplication", DEMO_APP),
                leaf("ipRelaxationPolicyType", "Enforce"),
                leaf("isClientCredentialsFlowEnabled", "true"),
                leaf("isGuestCodeCredFlowEnabled", "false"),
                leaf("isTokenExchangeFlowEnabled", "false"),
                leaf("label", &format!("{oauth}_defaultPolicy")),
                leaf("permittedUsersPolicyType", "AllSelfAuthorized"),
                leaf("refreshTokenPolicyType", "SpecificLifetime"),
                leaf("refreshTokenValidityPeriod", "365"),
                leaf("refreshTokenValidityUnit", "Days"),
                leaf("requiredSessionLevel", "STANDARD"),
            ],
        ),
        file(
            MetadataType::AppPolicies,
            &format!("{DEMO_APP}_defaultPolicy"),
            vec![
                leaf("externalClientApplication", DEMO_APP),
                leaf("isEnabled", "true"),
                leaf("isOauthPluginEnabled", "true"),
                leaf("label", &format!("{DEMO_APP}_defaultPolicy")),
                leaf("startPage", "None"),
            ],
        ),
    ];
    Project {
        root: DEMO_APP.into(),
        layout: Layout::MetadataApi,
        sfdx: None,
        api_version: ApiVersion::DEFAULT,
        files,
        manifests: Vec::new(),
        diagnostics: Vec::new(),
        project_sources: Vec::new(),
    }
}
