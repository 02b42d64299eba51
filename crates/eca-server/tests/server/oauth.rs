//! The OAuth endpoints (issue 5) against apps deployed with `eca_deploy::deploy`: every grant
//! and error path, client authentication by body and by Basic header, the response formats,
//! urlencoded, chunked and multipart bodies, opaque tokens on the REST API, revocation taking
//! effect at once, and isolation between orgs.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{StatusCode, header};
use base64::Engine as _;
use eca_core::crypto::MasterKey;
use eca_core::domain::{Org, User};
use eca_core::rng::DeterministicRng;
use eca_core::{Clock as _, ManualClock, Rng, Secret, Timestamp};
use eca_deploy::{DeployContext, DeployOptions, OrgLocks};
use eca_metadata::project::manifest::Manifest;
use eca_metadata::{ApiVersion, MetadataType};
use eca_oauth::{SigningKey, tokens};
use eca_server::bootstrap::{ADMIN_USERNAME, API_ONLY, BootstrapOptions};
use eca_server::directory::USER_TTL_MS;
use eca_server::oauth::registry::APP_TTL_MS;
use eca_server::{AppState, PublicUrl, Settings, app, bootstrap};
use eca_store::{DeployStatus, RefreshTokenRecord};
use serde_json::json;

use crate::support::*;

mod caches;
pub(crate) mod ip_restrictions;
mod jwt_access;
pub(crate) mod jwt_bearer;
mod measure;
mod password;
mod refresh;
mod userinfo;

pub(crate) use refresh::{refresh_body, stored_refresh};

const NS: &str = "http://soap.sforce.com/2006/04/metadata";
pub(crate) const KEY: &str = "3MVG9OpenEcaTestConsumerKeyForTheOAuthSuite";
pub(crate) const SECRET: &str = "0penEcaTestConsumerSecret0123456789abcdefABCDEF";
const OTHER_KEY: &str = "3MVG9OpenEcaOtherConsumerKeyForTheOAuthSuite";
const OTHER_SECRET: &str = "0therTestConsumerSecret0123456789abcdefABCDEF";
const CERT: &str = include_str!("../../../eca-oauth/tests/data/jwt/cert.pem");
const PRIVATE_KEY: &str = include_str!("../../../eca-oauth/tests/data/jwt/key.pem");
pub(crate) const TOKEN: &str = "/services/oauth2/token";
pub(crate) const FORM: &str = "application/x-www-form-urlencoded";

/// A server with a known master key, so tests can deploy apps into it.
pub(crate) struct World {
    pub(crate) h: Harness,
    pub(crate) key: MasterKey,
    /// The master key's text, to start more nodes on the same store.
    key_text: String,
    pub(crate) org: Org,
    pub(crate) admin: User,
    pub(crate) run_as: User,
}

pub(crate) async fn world() -> World {
    let store = eca_store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    world_on(store).await
}

/// A world on `store` (an empty database).
pub(crate) async fn world_on(store: Arc<dyn eca_store::Store>) -> World {
    let clock = Arc::new(ManualClock::new(START));
    let rng: Arc<dyn Rng> = Arc::new(DeterministicRng::new(11));
    let options = BootstrapOptions {
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        demo: false,
    };
    bootstrap(store.as_ref(), clock.as_ref(), Arc::clone(&rng), &options)
        .await
        .expect("bootstrap");
    let (_, text) = MasterKey::generate(rng.as_ref()).expect("a master key");
    let key = MasterKey::parse(&text).expect("the key");
    let mut settings = Settings::new(PublicUrl::parse(PUBLIC_URL).expect("a public URL"));
    settings.body_limit = 64 * 1024;
    let state = AppState::new(
        Arc::clone(&store),
        clock.clone(),
        Arc::clone(&rng),
        MasterKey::parse(&text).expect("the key"),
        settings,
    );
    let org = store
        .default_org()
        .await
        .expect("store")
        .expect("a default org");
    let admin = stored_user(&store, ADMIN_USERNAME).await;
    let h = Harness {
        app: app(state.clone()),
        store,
        clock,
        rng,
        state,
    };
    let api_only = h
        .store
        .profile_by_name(&org.id, API_ONLY)
        .await
        .expect("store")
        .expect("the API Only profile");
    let run_as = add_user(&h, &org, &api_only, "runas@demo.example").await;
    World {
        h,
        key,
        key_text: text,
        org,
        admin,
        run_as,
    }
}

/// One metadata file of a package.
pub(crate) struct File {
    ty: MetadataType,
    name: String,
    xml: String,
}

/// The profile of the world's org called `name`.
pub(crate) async fn profile_named(w: &World, name: &str) -> eca_core::domain::Profile {
    w.h.store
        .profile_by_name(&w.org.id, name)
        .await
        .expect("store")
        .unwrap_or_else(|| panic!("the profile {name}"))
}

/// A new user of the world's org with the profile named `profile`, changed by `change`
/// (deactivated, frozen...) and stored.
pub(crate) async fn user_changed(
    w: &World,
    profile: &str,
    username: &str,
    change: impl FnOnce(&mut User),
) -> User {
    let mut user = add_user(&w.h, &w.org, &profile_named(w, profile).await, username).await;
    change(&mut user);
    w.h.store
        .update_user(&user, user.updated_at)
        .await
        .expect("store");
    user
}

pub(crate) fn file(ty: MetadataType, name: &str, body: &str) -> File {
    File {
        ty,
        name: name.to_owned(),
        xml: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{root} xmlns=\"{NS}\">\n{body}\n</{root}>\n",
            root = ty.name()
        ),
    }
}

/// How an app is deployed.
pub(crate) struct AppSpec<'a> {
    pub(crate) name: &'a str,
    pub(crate) key: &'a str,
    pub(crate) secret: &'a str,
    /// Extra elements of the global OAuth settings.
    pub(crate) global: String,
    /// Extra elements of the OAuth policies.
    pub(crate) policies: String,
    /// Extra elements of the OAuth settings.
    pub(crate) settings: String,
    pub(crate) enabled: bool,
}

impl World {
    /// The stored consumer of the `Ci` app (deployed with [`KEY`]).
    pub(crate) async fn ci_consumer(&self) -> eca_store::OauthConsumer {
        self.h
            .store
            .consumer_by_key(KEY)
            .await
            .expect("store")
            .expect("the consumer")
    }

    /// Another server node on the same store, master key and clock (as a second process on
    /// one PostgreSQL database would be).
    pub(crate) fn node(&self) -> axum::Router {
        let mut settings = Settings::new(PublicUrl::parse(PUBLIC_URL).expect("a public URL"));
        settings.body_limit = 64 * 1024;
        app(AppState::new(
            Arc::clone(&self.h.store),
            self.h.clock.clone(),
            Arc::new(DeterministicRng::new(97)),
            MasterKey::parse(&self.key_text).expect("the key"),
            settings,
        ))
    }

    /// The app `Ci` with client credentials enabled everywhere, run as the integration user.
    pub(crate) fn ci(&self) -> AppSpec<'static> {
        AppSpec {
            name: "Ci",
            key: KEY,
            secret: SECRET,
            global: "<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>"
                .to_owned(),
            policies: format!(
                "<clientCredentialsFlowUser>{}</clientCredentialsFlowUser><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>",
                self.run_as.username
            ),
            settings: String::new(),
            enabled: true,
        }
    }

    pub(crate) async fn deploy(&self, spec: &AppSpec<'_>) {
        self.deploy_files(&self.app_files(spec), &[]).await;
    }

    /// [`World::deploy`] at another API version (fields of v61–63 only, say).
    pub(crate) async fn deploy_at(&self, spec: &AppSpec<'_>, version: ApiVersion) {
        self.deploy_files_at(&self.app_files(spec), &[], version)
            .await;
    }

    /// The five files of the app `spec` describes.
    fn app_files(&self, spec: &AppSpec<'_>) -> Vec<File> {
        let app = spec.name;
        // The global settings' extra elements may bring their own callback URLs.
        let callback = if spec.global.contains("<callbackUrl>") {
            ""
        } else {
            "<callbackUrl>https://app.example.com/callback</callbackUrl>"
        };
        vec![
            file(
                MetadataType::ExternalClientApplication,
                app,
                &format!(
                    "<contactEmail>dev@example.com</contactEmail><distributionState>Local</distributionState><label>{app}</label>"
                ),
            ),
            file(
                MetadataType::OauthSettings,
                &format!("{app}_oauth"),
                &format!(
                    "<commaSeparatedOauthScopes>Api, RefreshToken, OpenID</commaSeparatedOauthScopes><externalClientApplication>{app}</externalClientApplication><label>{app} OAuth</label>{}",
                    spec.settings
                ),
            ),
            file(
                MetadataType::GlobalOauthSettings,
                &format!("{app}_glbloauth"),
                &format!(
                    "{callback}<consumerKey>{}</consumerKey><consumerSecret>{}</consumerSecret><externalClientApplication>{app}</externalClientApplication><label>{app} consumer</label>{}",
                    spec.key, spec.secret, spec.global
                ),
            ),
            file(
                MetadataType::OauthPolicies,
                &format!("{app}_oauth_defaultPolicy"),
                &format!(
                    "<externalClientApplication>{app}</externalClientApplication><label>{app} policies</label>{}",
                    spec.policies
                ),
            ),
            file(
                MetadataType::AppPolicies,
                &format!("{app}_defaultPolicy"),
                &format!(
                    "<externalClientApplication>{app}</externalClientApplication><isEnabled>{}</isEnabled><isOauthPluginEnabled>true</isOauthPluginEnabled><label>{app} app policies</label>",
                    spec.enabled
                ),
            ),
        ]
    }

    /// Deploys the files and extra zip entries (destructive manifests) through this node's
    /// deploy path: it first writes the tokens still pending in this node's writer (so deleting
    /// an app revokes them), and drops the org's cached apps afterwards.
    pub(crate) async fn deploy_files(&self, files: &[File], extra: &[(String, String)]) {
        self.deploy_files_at(files, extra, ApiVersion::DEFAULT)
            .await;
    }

    async fn deploy_files_at(
        &self,
        files: &[File],
        extra: &[(String, String)],
        version: ApiVersion,
    ) {
        let result = eca_server::metadata::deploy_and_wait(
            &self.h.state,
            &self.org.id,
            &self.admin.id,
            version,
            zip_at(files, extra, version),
            deploy_options(),
        )
        .await
        .expect("a deploy");
        assert_eq!(
            result.status,
            DeployStatus::Succeeded,
            "{:#?}",
            result.details.component_failures
        );
    }

    /// Deploys through the engine only, as another server node on the same database would:
    /// this node sees the change once its cached apps are older than `APP_TTL_MS`.
    async fn deploy_elsewhere(&self, files: &[File], extra: &[(String, String)]) {
        let locks = OrgLocks::new();
        let ctx = DeployContext {
            store: self.h.store.as_ref(),
            org: &self.org.id,
            user: &self.admin.id,
            clock: self.h.clock.as_ref(),
            rng: self.h.rng.as_ref(),
            master_key: &self.key,
            locks: &locks,
            version: ApiVersion::DEFAULT,
            node: "test-node",
        };
        let outcome = eca_deploy::deploy(&ctx, &zip_for(files, extra), deploy_options())
            .await
            .expect("a deploy");
        assert_eq!(
            outcome.result.status,
            DeployStatus::Succeeded,
            "{:#?}",
            outcome.result.details.component_failures
        );
    }

    /// `POST /services/oauth2/token` with a urlencoded body.
    pub(crate) async fn token(&self, body: &str) -> Reply {
        post(TOKEN, FORM, body.to_owned()).send(&self.h).await
    }

    /// A client-credentials token of `Ci` (body authentication).
    pub(crate) async fn cc_token(&self) -> String {
        let reply = self
            .token(&format!(
                "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
            ))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["access_token"]
            .as_str()
            .expect("a token")
            .to_owned()
    }

    pub(crate) fn identity(&self, user: &User) -> String {
        format!("{PUBLIC_URL}/id/{}/{}", self.org.id, user.id)
    }
}

/// A deploy zip of `files` (with their `package.xml`) and the `extra` entries.
fn zip_for(files: &[File], extra: &[(String, String)]) -> Vec<u8> {
    zip_at(files, extra, ApiVersion::DEFAULT)
}

/// [`zip_for`] with a `package.xml` of `version`.
fn zip_at(files: &[File], extra: &[(String, String)], version: ApiVersion) -> Vec<u8> {
    let manifest =
        Manifest::from_components(files.iter().map(|f| (f.ty, f.name.as_str())), version);
    let mut entries = vec![("package.xml".to_owned(), manifest.to_xml())];
    for f in files {
        entries.push((
            format!("{}/{}", f.ty.directory(), f.ty.mdapi_file_name(&f.name)),
            f.xml.clone(),
        ));
    }
    entries.extend(extra.iter().cloned());
    zip_of(&entries)
}

fn deploy_options() -> DeployOptions {
    DeployOptions {
        ignore_warnings: true,
        ..DeployOptions::default()
    }
}

fn zip_of(entries: &[(String, String)]) -> Vec<u8> {
    use std::io::Write as _;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(name.as_str(), options).expect("a zip entry");
        w.write_all(data.as_bytes()).expect("zip data");
    }
    w.finish().expect("a zip").into_inner()
}

pub(crate) fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// Asserts an OAuth error body.
#[track_caller]
pub(crate) fn oauth_error(reply: &Reply, status: StatusCode, error: &str, description: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["error"], error, "{}", reply.body);
    assert_eq!(json["error_description"], description, "{}", reply.body);
}

/// `GET` with a Bearer token.
async fn get_bearer(w: &World, uri: &str, token: &str) -> Reply {
    get(uri).bearer(token).send(&w.h).await
}

// ---------------------------------------------------------------------------------------------
// Client credentials
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn client_credentials_issues_a_salesforce_shaped_token() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/json;charset=UTF-8"
    );
    let json = reply.json();
    let token = json["access_token"].as_str().expect("a token");
    let (org15, opaque) = token.split_once('!').expect("org!opaque");
    assert_eq!(org15, w.org.id.as_15());
    assert!(opaque.starts_with("AQ"));
    let id = w.identity(&w.run_as);
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["instance_url"], PUBLIC_URL);
    assert_eq!(json["api_instance_url"], PUBLIC_URL);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["scope"], "openid api");
    let issued_at = START.millis().to_string();
    assert_eq!(json["issued_at"], issued_at.as_str());
    let signature = json["signature"].as_str().expect("a signature");
    assert!(eca_oauth::signature::verify(
        &Secret::new(SECRET),
        &id,
        &issued_at,
        signature
    ));
    assert!(json.get("refresh_token").is_none());
    // Only the hash is stored. The token is written behind: wait for its batch to commit.
    w.h.state.token_writer().sync().await;
    let stored =
        w.h.store
            .access_token(
                tokens::access_token(&w.org.id, START, &DeterministicRng::new(1))
                    .hash
                    .as_str(),
            )
            .await
            .expect("store");
    assert_eq!(stored, None);
    // Keyed by the issue time the token carries and its hash (`tokens::access_token_key`).
    let hash = tokens::access_token_key(token);
    assert!(
        hash.as_str()
            .ends_with(eca_oauth::TokenHash::of(token).as_str())
    );
    assert!(!hash.as_str().contains(&token[16..]));
    let record =
        w.h.store
            .access_token(hash.as_str())
            .await
            .expect("store")
            .expect("the token row");
    assert_eq!(record.user_id, w.run_as.id);
    assert_eq!(record.app_name, "Ci");
}

#[tokio::test]
async fn client_credentials_by_basic_header_and_the_errors_of_client_authentication() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    // simple-salesforce: Basic header, body only the grant type.
    let reply = post(TOKEN, FORM, "grant_type=client_credentials")
        .header("authorization", &basic(KEY, SECRET))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let reply = post(TOKEN, FORM, "grant_type=client_credentials")
        .header("authorization", &basic(KEY, "wrong"))
        .send(&w.h)
        .await;
    oauth_error(
        &reply,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "invalid client credentials",
    );
    assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));

    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret=wrong"
        ))
        .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
    let reply = w
        .token(&format!("grant_type=client_credentials&client_id={KEY}"))
        .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_client",
        "invalid client credentials",
    );
    let reply = w
        .token("grant_type=client_credentials&client_id=3MVG9nobody&client_secret=x")
        .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_client_id",
        "client identifier invalid",
    );
    let reply = w.token("grant_type=client_credentials").await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_client_id",
        "client identifier invalid",
    );
    let reply = w.token("nothing=here").await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        "grant type not supported",
    );
}

#[tokio::test]
async fn an_app_used_in_another_org_gets_the_cross_org_refusal() {
    // `spec/metadata.md` §5 and §6: a Local app works only in its own org; a Packaged one
    // only where it is installed, and OpenECA installs no packages.
    let w = world().await;
    w.deploy(&w.ci()).await;
    let (acme, _) = second_org(&w.h, vec![]).await;
    let cc = format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}");
    let acme_token = format!("/orgs/{}{TOKEN}", acme.my_domain);
    let reply = post(&acme_token, FORM, cc.clone()).send(&w.h).await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "OAUTH_AUTHORIZATION_BLOCKED",
        "Cross-org OAuth flows are not supported for this external client app",
    );
    // The browser flow shows it as a page, never redirecting to the app.
    let reply = get(&format!(
        "/orgs/{}/services/oauth2/authorize?response_type=code&client_id={KEY}\
         &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback",
        acme.my_domain
    ))
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply.body.contains(
            "OAUTH_AUTHORIZATION_BLOCKED: Cross-org OAuth flows are not supported for this external client app"
        ),
        "{}",
        reply.body
    );
    assert!(reply.headers.get("location").is_none());
    // An unknown key is still just unknown there.
    let reply = post(
        &acme_token,
        FORM,
        "grant_type=client_credentials&client_id=3MVG9nobody&client_secret=x".to_owned(),
    )
    .send(&w.h)
    .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_client_id",
        "client identifier invalid",
    );
    // Packaged: not installed in the other org.
    w.deploy_files(
        &[file(
            MetadataType::ExternalClientApplication,
            "Ci",
            "<contactEmail>dev@example.com</contactEmail><distributionState>Packaged</distributionState><label>Ci</label>",
        )],
        &[],
    )
    .await;
    let reply = post(&acme_token, FORM, cc.clone()).send(&w.h).await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "OAUTH_EC_APP_NOT_FOUND",
        "External client app is not installed in this org",
    );
    // In its own org it works either way.
    let reply = w.token(&cc).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn client_credentials_needs_the_flow_on_both_sides_and_an_api_only_run_as_user() {
    let w = world().await;
    // Off in the global settings.
    let mut spec = w.ci();
    spec.global = String::new();
    w.deploy(&spec).await;
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "client credentials flow is not enabled for this app",
    );
    // Off in the policies.
    let mut spec = w.ci();
    spec.policies = "<isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>".into();
    w.deploy(&spec).await;
    let body = format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}");
    oauth_error(
        &w.token(&body).await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        "client credentials flow is not enabled for this app",
    );
    // On, without a run-as user.
    spec.policies = "<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>".into();
    w.deploy(&spec).await;
    oauth_error(
        &w.token(&body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "no client credentials user enabled",
    );
    // A run-as user without API Only (the deploy only warns).
    spec.policies = format!(
        "<clientCredentialsFlowUser>{ADMIN_USERNAME}</clientCredentialsFlowUser><isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>"
    );
    w.deploy(&spec).await;
    oauth_error(
        &w.token(&body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "no client credentials user enabled",
    );
    // The API Only user, then deactivated by an admin: seen at once by this node.
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let sid = admin_session(&w.h).await;
    let reply = request(
        "PATCH",
        &format!("/services/data/v66.0/sobjects/User/{}", w.run_as.id),
        Some(r#"{"IsActive": false}"#),
    )
    .bearer(&sid)
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    oauth_error(
        &w.token(&body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "inactive user",
    );
    // Its tokens stop working too.
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn scopes_are_narrowed_and_refresh_scopes_dropped_for_client_credentials() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}&scope=api%20refresh_token%20web"
        ))
        .await;
    assert_eq!(reply.json()["scope"], "api", "{}", reply.body);
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}&scope=refresh_token"
        ))
        .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "no valid scopes defined",
    );
}

/// Custom scopes come from the OAuth policies (the documented place) and from the OAuth
/// settings; a request names them beside the built-in scopes.
#[tokio::test]
async fn custom_scopes_of_the_policies_and_the_settings_are_granted() {
    let w = world().await;
    let mut spec = w.ci();
    spec.policies.push_str(
        "<commaSeparatedCustomScopes>orders_read, orders_write</commaSeparatedCustomScopes>",
    );
    spec.settings
        .push_str("<commaSeparatedCustomScopes>invoices, orders_read</commaSeparatedCustomScopes>");
    w.deploy(&spec).await;
    let scope_of = |reply: &Reply| reply.json()["scope"].as_str().map(str::to_owned);
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}&scope=orders_read"
        ))
        .await;
    assert_eq!(
        scope_of(&reply).as_deref(),
        Some("orders_read"),
        "{}",
        reply.body
    );
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}&scope=api%20orders_write%20invoices%20unknown"
        ))
        .await;
    assert_eq!(
        scope_of(&reply).as_deref(),
        Some("api invoices orders_write"),
        "{}",
        reply.body
    );
    // Without `scope`, every scope of the app (client credentials drops the refresh scopes).
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    let all = scope_of(&reply).expect("a scope");
    for name in ["invoices", "orders_read", "orders_write", "api"] {
        assert!(all.split(' ').any(|s| s == name), "{name} in {all}");
    }
}

#[tokio::test]
async fn response_formats_follow_format_then_accept() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let body = format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}");
    let reply = w.token(&format!("{body}&format=urlencoded")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/x-www-form-urlencoded;charset=UTF-8"
    );
    let pairs: Vec<(String, String)> = form_urlencoded::parse(reply.body.as_bytes())
        .into_owned()
        .collect();
    assert!(
        pairs
            .iter()
            .any(|(k, v)| k == "token_type" && v == "Bearer")
    );
    assert!(
        pairs
            .iter()
            .any(|(k, v)| k == "access_token" && v.contains('!'))
    );

    let reply = post(TOKEN, FORM, body.clone())
        .header("accept", "application/xml")
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.xml("token_type").as_deref(), Some("Bearer"));
    // `format` beats `Accept`, for errors too.
    let reply = post(TOKEN, FORM, format!("{body}x&format=xml"))
        .header("accept", "application/json")
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.xml("error").as_deref(), Some("invalid_client"));
}

#[tokio::test]
async fn chunked_and_multipart_bodies_are_read() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    // Chunked: a streamed body has no Content-Length (as Node's undici sends it).
    let chunks: Vec<Result<String, std::io::Error>> = vec![
        Ok("grant_type=client_credentials&client_".to_owned()),
        Ok(format!("id={KEY}&client_secret=")),
        Ok(SECRET.to_owned()),
    ];
    let reply = post(
        TOKEN,
        FORM,
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let boundary = "----OpenEcaBoundary7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in [
        ("grant_type", "client_credentials"),
        ("client_id", KEY),
        ("client_secret", SECRET),
        ("format", "json"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let reply = post(
        TOKEN,
        &format!("multipart/form-data; boundary={boundary}"),
        body,
    )
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.json()["access_token"].is_string());
}

#[tokio::test]
async fn oauth_request_bodies_are_bounded() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    // Just over 64 KiB of one-letter parameters: refused before the form is parsed, with an
    // OAuth error that says why, on every endpoint that reads a form body.
    let flood = "a&".repeat(32 * 1024 + 1);
    for path in [
        TOKEN,
        "/services/oauth2/revoke",
        "/services/oauth2/introspect",
        "/services/oauth2/device/authorize",
    ] {
        let reply = post(path, FORM, flood.clone()).send(&w.h).await;
        assert_eq!(
            reply.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"], "invalid_request", "{path}");
        assert_eq!(
            reply.json()["error_description"],
            "request body larger than 65536 bytes",
            "{path}"
        );
    }
    // The token endpoint answers in the format the client asked for.
    let reply = post(TOKEN, FORM, flood.clone())
        .header("accept", "application/xml")
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.xml("error").as_deref(), Some("invalid_request"));
    // Streamed without a length, the same.
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..17).map(|_| Ok("a&".repeat(2048))).collect();
    let reply = post(
        TOKEN,
        FORM,
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
    .send(&w.h)
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    // A body of up to 64 KiB is still read: padding in a parameter nobody reads.
    let body = format!(
        "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}&pad={}",
        "x".repeat(60 * 1024)
    );
    let reply = post(TOKEN, FORM, body).send(&w.h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// Opaque tokens on the REST API, expiry, revocation, app switches, other orgs
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn access_tokens_work_on_the_rest_api_and_the_identity_url() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let id_path = format!("/id/{}/{}", w.org.id, w.run_as.id);
    let reply = get_bearer(&w, &id_path, &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["username"], "runas@demo.example");
    // jsforce's `identity()`: the token in the query string.
    let reply = get(&format!(
        "{id_path}?format=json&oauth_token={}",
        token.replace('!', "%21")
    ))
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = get_bearer(
        &w,
        &format!("/services/data/v66.0/sobjects/User/{}", w.run_as.id),
        &token,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["Username"], "runas@demo.example");

    // The token expires with the org's session timeout.
    w.h.clock.advance_secs(w.org.session_timeout_minutes * 60);
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn the_policies_session_timeout_sets_the_token_lifetime() {
    let w = world().await;
    let mut spec = w.ci();
    spec.policies
        .push_str("<sessionTimeoutInMinutes>15</sessionTimeoutInMinutes>");
    w.deploy(&spec).await;
    let token = w.cc_token().await;
    w.h.clock.advance_secs(14 * 60);
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    w.h.clock.advance_secs(60);
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}

#[tokio::test]
async fn revocation_takes_effect_at_once_by_post_and_get() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let reply = post("/services/oauth2/revoke", FORM, format!("token={encoded}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, "");
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    // Again: still fine (RFC 7009 §2.2).
    let reply = get(&format!("/services/oauth2/revoke?token={encoded}"))
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let other = w.cc_token().await;
    let reply = get(&format!(
        "/services/oauth2/revoke?token={}",
        form_urlencoded::byte_serialize(other.as_bytes()).collect::<String>()
    ))
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    get_bearer(&w, "/services/data/v66.0", &other)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");

    // Unknown tokens of every shape: refused, and nobody waited for the token writer (anyone
    // may call this endpoint, and each wait ends the writer's gathering of a batch early).
    let syncs = w.h.state.token_writer().syncs();
    let unknown_opaque = format!("token={}%21AQnope", w.org.id.as_15());
    for body in [
        "token=",
        "token=nonsense",
        "token=00Dxx0000000000!AQnope",
        unknown_opaque.as_str(),
        "token=eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
    ] {
        let reply = post("/services/oauth2/revoke", FORM, body.to_owned())
            .send(&w.h)
            .await;
        oauth_error(
            &reply,
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token was invalid",
        );
    }
    assert_eq!(w.h.state.token_writer().syncs(), syncs);
    let reply = post(
        "/services/oauth2/revoke",
        FORM,
        format!("token={encoded}&token_type_hint=id_token"),
    )
    .send(&w.h)
    .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "unsupported_token_type",
        "Token type not supported",
    );
}

/// The JSONP form of revoke (`spec/oauth-and-connect.md` §1.5): a script calling the callback
/// with `{}` or the error, always 200, and only for a callback that is a JavaScript name.
#[tokio::test]
async fn revocation_by_jsonp_calls_the_callback() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let encoded: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    let reply = get(&format!(
        "/services/oauth2/revoke?token={encoded}&callback=app.onRevoke"
    ))
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body, "app.onRevoke({});");
    assert_eq!(
        reply
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/javascript; charset=utf-8")
    );
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    let reply = get("/services/oauth2/revoke?token=nonsense&callback=done")
        .send(&w.h)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body,
        r#"done({"error":"invalid_token","error_description":"Token was invalid"});"#
    );
    for callback in [
        "alert(1)//",
        "1abc",
        "a..b",
        "x%3Balert(1)",
        &"a".repeat(65),
    ] {
        let reply = get(&format!(
            "/services/oauth2/revoke?token=nonsense&callback={callback}"
        ))
        .send(&w.h)
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{callback}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"], "invalid_request", "{callback}");
    }
}

#[tokio::test]
async fn a_disabled_app_issues_nothing_and_its_tokens_stop_working() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let mut spec = w.ci();
    spec.enabled = false;
    w.deploy(&spec).await;
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "OAUTH_APP_BLOCKED",
        "this app is blocked by admin",
    );
    // Switched back on, the same token works again: it was never revoked, only refused.
    w.deploy(&w.ci()).await;
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_token_of_one_org_is_refused_on_another() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let (acme, _) = second_org(&w.h, vec![]).await;
    let prefix = format!("/orgs/{}", acme.my_domain);
    get_bearer(&w, &format!("{prefix}/services/data/v66.0"), &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    get(&format!("{prefix}/services/oauth2/userinfo"))
        .bearer(&token)
        .send(&w.h)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    let reply = post(
        &format!("{prefix}/services/oauth2/revoke"),
        FORM,
        format!(
            "token={}",
            form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>()
        ),
    )
    .send(&w.h)
    .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_token",
        "Token was invalid",
    );
    // Still valid at home.
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

// ---------------------------------------------------------------------------------------------
// Discovery and keys
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn discovery_names_the_orgs_endpoints() {
    let w = world().await;
    let reply = get("/.well-known/openid-configuration").send(&w.h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let json = reply.json();
    assert_eq!(json["issuer"], PUBLIC_URL);
    assert_eq!(
        json["token_endpoint"],
        format!("{PUBLIC_URL}/services/oauth2/token")
    );
    assert_eq!(json["jwks_uri"], format!("{PUBLIC_URL}/id/keys"));
    assert_eq!(
        json["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert!(
        json["grant_types_supported"]
            .as_array()
            .is_some_and(|g| g.contains(&json!("client_credentials")))
    );
    let (acme, _) = second_org(&w.h, vec![]).await;
    let reply = get(&format!(
        "/orgs/{}/.well-known/openid-configuration",
        acme.my_domain
    ))
    .send(&w.h)
    .await;
    assert_eq!(
        reply.json()["issuer"],
        format!("{PUBLIC_URL}/orgs/{}", acme.my_domain)
    );
}

#[tokio::test]
async fn each_org_gets_one_stable_signing_key_stored_encrypted() {
    let w = world().await;
    let first = get("/id/keys").send(&w.h).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let jwks = first.json();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1));
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    assert_eq!(jwks["keys"][0]["use"], "sig");
    assert_eq!(jwks["keys"][0]["kid"], "1");
    assert_eq!(get("/id/keys").send(&w.h).await.json(), jwks);
    let stored = w.h.store.signing_keys(&w.org.id).await.expect("store");
    assert_eq!(stored.len(), 1);
    // Not PKCS#8 in the clear (which starts with a DER SEQUENCE, 0x30 0x82).
    assert_ne!(stored[0].encrypted_key.get(..2), Some(&[0x30, 0x82][..]));
    let (acme, _) = second_org(&w.h, vec![]).await;
    let theirs = get(&format!("/orgs/{}/id/keys", acme.my_domain))
        .send(&w.h)
        .await
        .json();
    assert_ne!(theirs["keys"][0]["n"], jwks["keys"][0]["n"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn requests_that_need_an_orgs_first_key_at_once_make_one() {
    // `/id/keys` needs no login: a burst of them for an org without a key must not cost an RSA
    // key generation each.
    let w = world().await;
    let (acme, _) = second_org(&w.h, vec![]).await;
    let before = w.h.state.signing_keys().generated();
    let path = format!("/orgs/{}/id/keys", acme.my_domain);
    let answers = futures_util::future::join_all((0..8).map(|_| get(&path).send(&w.h))).await;
    let first = answers[0].json();
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(answer.json(), first);
    }
    assert_eq!(w.h.state.signing_keys().generated(), before + 1);
    assert_eq!(
        w.h.store.signing_keys(&acme.id).await.expect("store").len(),
        1
    );
}

#[tokio::test]
async fn a_token_works_only_on_the_apis_its_scopes_grant() {
    // `spec/oauth-and-connect.md` §4: `api` (or `full`) is what reaches the data APIs; a token
    // granted only `openid` says who its user is and nothing more.
    let w = world().await;
    w.deploy(&w.ci()).await;
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}&scope=openid"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["scope"], "openid");
    let token = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    for path in [
        "/services/data/v66.0".to_owned(),
        format!("/services/data/v66.0/sobjects/User/{}", w.run_as.id),
        "/services/data/v66.0/apps/oauth/usage".to_owned(),
    ] {
        let reply = get_bearer(&w, &path, &token).await;
        reply.rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
        assert!(
            reply
                .body
                .contains("This session is not valid for use with the"),
            "{path}: {}",
            reply.body
        );
    }
    // The identity URL and userinfo answer it.
    let reply = get_bearer(&w, &format!("/id/{}/{}", w.org.id, w.run_as.id), &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = get_bearer(&w, "/services/oauth2/userinfo", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // With `api` it reaches the REST API.
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}&scope=api"
        ))
        .await;
    let token = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_deleted_apps_tokens_stop_working_and_its_client_is_unknown() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    // The second token follows the first within the writer's steady-load window, so it may
    // still be pending (`oauth::token_writer`) when the delete starts: the deploy writes it
    // first, then revokes it.
    w.cc_token().await;
    let token = w.cc_token().await;
    // A user's approval of the app (consent, or what JWT bearer asks of self-authorized apps).
    w.h.store
        .record_approval(&w.org.id, "Ci", &w.admin.id, Some("*"), w.h.clock.now())
        .await
        .unwrap();
    let mut destructive = Manifest::from_components(
        [(MetadataType::ExternalClientApplication, "Ci")],
        ApiVersion::DEFAULT,
    );
    destructive.version = None;
    w.deploy_files(
        &[],
        &[("destructiveChanges.xml".to_owned(), destructive.to_xml())],
    )
    .await;
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
    // Not only unusable: revoked, so it stays dead if an app of the same name comes back.
    let stored =
        w.h.store
            .access_token(tokens::access_token_key(&token).as_str())
            .await
            .unwrap()
            .unwrap();
    assert!(
        stored.revoked_at.is_some(),
        "the deleted app's token is revoked"
    );
    // An app deployed later under the same name is another app: nobody has approved it.
    assert!(
        !w.h.store
            .has_approved(&w.org.id, "Ci", &w.admin.id)
            .await
            .unwrap(),
        "the deleted app's approvals are gone"
    );
    let reply = w
        .token(&format!(
            "grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}"
        ))
        .await;
    oauth_error(
        &reply,
        StatusCode::BAD_REQUEST,
        "invalid_client_id",
        "client identifier invalid",
    );
}

/// Through an app's access token, setting one's own password needs Manage Users: a leaked token
/// must not become the user's password. Nor does the token become a session when it may (it
/// has none of its own; sessions are found before tokens and would outlive its revocation).
#[tokio::test]
async fn setting_ones_own_password_with_a_token_needs_manage_users() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let set = async |token: &str, id: &eca_core::UserId| {
        request(
            "POST",
            &format!("/services/data/v66.0/sobjects/User/{id}/password"),
            Some(r#"{"NewPassword": "Fresh-Password-9"}"#),
        )
        .bearer(token)
        .send(&w.h)
        .await
    };
    let token = w.cc_token().await;
    set(&token, &w.run_as.id)
        .await
        .rest_error(StatusCode::FORBIDDEN, "INSUFFICIENT_ACCESS");
    // The admin's token (username-password grant), whose user has Manage Users.
    let reply = w
        .token(&format!(
            "grant_type=password&client_id={KEY}&client_secret={SECRET}&username={}&password={ADMIN_PASSWORD}",
            form_urlencoded::byte_serialize(ADMIN_USERNAME.as_bytes()).collect::<String>()
        ))
        .await;
    let admin = reply.json()["access_token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let reply = set(&admin, &w.admin.id).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.body);
    assert_eq!(
        w.h.store.delete_user_sessions(&w.admin.id).await.unwrap(),
        0
    );
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

/// An opaque access token is a SOAP session id too: SOAP `logout` with it revokes it, rather
/// than answering success while it goes on working.
#[tokio::test]
async fn soap_logout_with_an_access_token_revokes_it() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let reply = post(
        "/services/Soap/u/66.0",
        "text/xml",
        with_session(&token, "<urn:logout/>"),
    )
    .send(&w.h)
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}
