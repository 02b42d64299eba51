//! The test harness: a bootstrapped server on an in-memory SQLite store, a `ManualClock` and a
//! deterministic RNG, driven in-process with `tower::ServiceExt::oneshot`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode, header};
use eca_core::crypto::{MasterKey, hash_password};
use eca_core::domain::{Org, Permission, Permissions, Profile, User, UserFields};
use eca_core::rng::DeterministicRng;
use eca_core::{ManualClock, OrgId, ProfileId, Rng, Secret, Timestamp, UserId};
use eca_server::bootstrap::{ADMIN_USERNAME, BootstrapOptions};
use eca_server::state::LoginPolicy;
use eca_server::{AppState, PublicUrl, Settings, app, bootstrap};
use eca_store::Store;
use tower::ServiceExt as _;

pub const ADMIN_PASSWORD: &str = "Admin-Password-1234";
pub const PUBLIC_URL: &str = "http://127.0.0.1:8080";
/// 2026-11-26T00:00:00Z.
pub const START: Timestamp = Timestamp::from_secs(1_795_651_200);

pub struct Harness {
    pub app: Router,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub rng: Arc<dyn Rng>,
    /// The server's state, for what a test does beside the HTTP API (dropping cached apps
    /// after deploying through the engine directly, as the deploy endpoints do).
    pub state: AppState,
}

/// Adjusts the settings of a harness before it is built.
pub type Tweak = fn(&mut Settings);

pub async fn harness() -> Harness {
    harness_with(|_| {}).await
}

pub async fn harness_with(tweak: Tweak) -> Harness {
    let store = eca_store::open("sqlite::memory:")
        .await
        .expect("in-memory store");
    let clock = Arc::new(ManualClock::new(START));
    let rng: Arc<dyn Rng> = Arc::new(DeterministicRng::new(7));
    let options = BootstrapOptions {
        admin_password: Some(Secret::new(ADMIN_PASSWORD)),
        demo: false,
    };
    bootstrap(store.as_ref(), clock.as_ref(), Arc::clone(&rng), &options)
        .await
        .expect("bootstrap");
    let (key, _) = MasterKey::generate(rng.as_ref()).expect("a master key");
    let mut settings = Settings::new(PublicUrl::parse(PUBLIC_URL).expect("a public URL"));
    settings.body_limit = 64 * 1024;
    settings.login = LoginPolicy::default();
    tweak(&mut settings);
    let state = AppState::new(
        Arc::clone(&store),
        clock.clone(),
        Arc::clone(&rng),
        key,
        settings,
    );
    Harness {
        app: app(state.clone()),
        store,
        clock,
        rng,
        state,
    }
}

/// Another server node on the same database (and clock and randomness): it shares nothing
/// in memory with `h`, as a second process behind a load balancer would.
pub fn another_node(h: &Harness) -> Harness {
    let (key, _) = MasterKey::generate(h.rng.as_ref()).expect("a master key");
    let mut settings = Settings::new(PublicUrl::parse(PUBLIC_URL).expect("a public URL"));
    settings.body_limit = 64 * 1024;
    settings.login = LoginPolicy::default();
    let state = AppState::new(
        Arc::clone(&h.store),
        h.clock.clone(),
        Arc::clone(&h.rng),
        key,
        settings,
    );
    Harness {
        app: app(state.clone()),
        store: Arc::clone(&h.store),
        clock: h.clock.clone(),
        rng: Arc::clone(&h.rng),
        state,
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Asserts the REST error array with one error of this code.
    #[track_caller]
    pub fn rest_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        let json = self.json();
        assert_eq!(json[0]["errorCode"], code, "{}", self.body);
        assert!(json[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert_eq!(json.as_array().map(Vec::len), Some(1));
    }

    /// The text of the first element with this local name.
    pub fn xml(&self, name: &str) -> Option<String> {
        let doc =
            roxmltree::Document::parse(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body));
        doc.descendants()
            .find(|n| n.is_element() && n.tag_name().name() == name)
            .map(|n| n.text().unwrap_or("").to_owned())
    }

    /// Asserts a SOAP fault with this HTTP status and `faultcode`.
    #[track_caller]
    pub fn fault(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.headers[header::CONTENT_TYPE],
            "text/xml;charset=UTF-8",
            "{}",
            self.body
        );
        assert_eq!(
            self.xml("faultcode").as_deref(),
            Some(code),
            "{}",
            self.body
        );
    }
}

pub struct Call {
    request: axum::http::request::Builder,
    body: Body,
    peer: SocketAddr,
}

pub fn get(uri: &str) -> Call {
    Call {
        request: Request::get(uri),
        body: Body::empty(),
        peer: "192.0.2.10:5000".parse().expect("an address"),
    }
}

pub fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Call {
    Call {
        request: Request::post(uri).header(header::CONTENT_TYPE, content_type),
        body: body.into(),
        peer: "192.0.2.10:5000".parse().expect("an address"),
    }
}

/// A request of any method with an optional JSON body.
pub fn request(method: &str, uri: &str, json: Option<&str>) -> Call {
    let mut request = Request::builder().method(method).uri(uri);
    let body = match json {
        Some(text) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(text.to_owned())
        }
        None => Body::empty(),
    };
    Call {
        request,
        body,
        peer: "192.0.2.10:5000".parse().expect("an address"),
    }
}

impl Call {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn bearer(self, session_id: &str) -> Self {
        self.header("authorization", &format!("Bearer {session_id}"))
    }

    pub fn host(self, host: &str) -> Self {
        self.header("host", host)
    }

    /// The TCP peer's address (IPv4 or IPv6), port 5000.
    pub fn with_peer(mut self, ip: &str) -> Self {
        let ip: std::net::IpAddr = ip.parse().expect("an IP address");
        self.peer = SocketAddr::new(ip, 5000);
        self
    }

    pub async fn send(self, h: &Harness) -> Reply {
        self.send_to(&h.app).await
    }

    /// Sends to a router of its own (another server node).
    pub async fn send_to(self, app: &Router) -> Reply {
        let mut request = self.request.body(self.body).expect("a request");
        request.extensions_mut().insert(ConnectInfo(self.peer));
        let response = app.clone().oneshot(request).await.expect("a response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body");
        Reply {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).expect("a UTF-8 body"),
        }
    }
}

/// A login envelope as jsforce writes it (default namespace on the operation).
pub fn jsforce_login(username: &str, password: &str) -> String {
    format!(
        "<se:Envelope xmlns:se=\"http://schemas.xmlsoap.org/soap/envelope/\"><se:Header/>\
         <se:Body><login xmlns=\"urn:partner.soap.sforce.com\"><username>{username}</username>\
         <password>{password}</password></login></se:Body></se:Envelope>"
    )
}

/// A login envelope as simple-salesforce writes it (`CallOptions` header, `n1:` prefix).
pub fn simple_salesforce_login(username: &str, password: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\
         <env:Envelope xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:env=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:urn=\"urn:partner.soap.sforce.com\">\
         <env:Header><urn:CallOptions><urn:client>simple-salesforce</urn:client>\
         <urn:defaultNamespace>sf</urn:defaultNamespace></urn:CallOptions></env:Header>\
         <env:Body><n1:login xmlns:n1=\"urn:partner.soap.sforce.com\"><n1:username>{username}</n1:username>\
         <n1:password>{password}</n1:password></n1:login></env:Body></env:Envelope>"
    )
}

/// A partner call with a `SessionHeader`.
pub fn with_session(session_id: &str, operation: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:urn=\"urn:partner.soap.sforce.com\"><soapenv:Header><urn:SessionHeader>\
         <urn:sessionId>{session_id}</urn:sessionId></urn:SessionHeader></soapenv:Header>\
         <soapenv:Body>{operation}</soapenv:Body></soapenv:Envelope>"
    )
}

/// SOAP login at `prefix` (`""` or `/orgs/<domain>`).
pub fn login_call(prefix: &str, username: &str, password: &str) -> Call {
    post(
        &format!("{prefix}/services/Soap/u/66.0"),
        "text/xml; charset=utf-8",
        jsforce_login(username, password),
    )
    .header("soapaction", "login")
}

/// Logs the admin in to the default org and returns the session id.
pub async fn admin_session(h: &Harness) -> String {
    let reply = login_call("", ADMIN_USERNAME, ADMIN_PASSWORD).send(h).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.xml("sessionId").expect("a sessionId")
}

/// A second org `acme` with a profile of the given permissions and one user in it.
pub async fn second_org(h: &Harness, permissions: Vec<Permission>) -> (Org, User) {
    let rng = h.rng.as_ref();
    let org = Org {
        id: OrgId::generate(rng),
        name: "Acme".into(),
        my_domain: "acme".into(),
        is_default: false,
        session_timeout_minutes: 60,
        enforce_ip_ranges_every_request: false,
        created_at: START,
    };
    h.store.create_org(&org).await.expect("org created");
    let profile = Profile {
        id: ProfileId::generate(rng),
        org_id: org.id.clone(),
        name: "Integration".into(),
        permissions: Permissions::new(permissions),
    };
    h.store
        .create_profile(&profile)
        .await
        .expect("profile created");
    let user = add_user(h, &org, &profile, "ops@acme.example").await;
    (org, user)
}

/// Creates a user whose password is [`ADMIN_PASSWORD`].
pub async fn add_user(h: &Harness, org: &Org, profile: &Profile, username: &str) -> User {
    let user = User {
        id: UserId::generate(h.rng.as_ref()),
        org_id: org.id.clone(),
        username: username.into(),
        fields: UserFields {
            email: username.into(),
            last_name: "Ops".into(),
            time_zone: "Europe/Paris".into(),
            locale: "fr_FR".into(),
            language: "fr".into(),
            ..UserFields::default()
        },
        profile_id: profile.id.clone(),
        is_active: true,
        is_frozen: false,
        password_hash: Some(
            hash_password(&Secret::new(ADMIN_PASSWORD), h.rng.as_ref()).expect("a hash"),
        ),
        failed_logins: 0,
        locked_until: None,
        created_at: START,
        updated_at: START,
    };
    h.store.create_user(&user).await.expect("user created");
    user
}

/// The user `username` as stored (any org); panics when there is none.
pub async fn stored_user(
    store: &std::sync::Arc<dyn eca_store::Store>,
    username: &str,
) -> eca_core::domain::User {
    store
        .user_by_username(username)
        .await
        .expect("store")
        .expect("the user")
}

/// A PostgreSQL database for one test: a fresh schema of `ECA_TEST_DATABASE_URL`.
pub struct Postgres {
    pub store: Arc<dyn Store>,
    /// The server's URL and the schema's name, for what a test does with `psql`.
    pub url: String,
    pub schema: String,
}

/// Runs `body` on a store in a fresh PostgreSQL schema, dropped afterwards however `body`
/// ends; without `ECA_TEST_DATABASE_URL`, says that `test` is skipped and returns.
// The test database is configuration of the test run, read here as the store suite reads it;
// a skip says so on standard error, visibly.
#[allow(clippy::disallowed_methods, clippy::print_stderr)]
pub async fn on_postgres<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Postgres) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Ok(url) = std::env::var("ECA_TEST_DATABASE_URL") else {
        eprintln!("SKIPPED {test}: set ECA_TEST_DATABASE_URL=postgres://... to run it");
        return;
    };
    let schema = format!(
        "eca_test_{}",
        eca_core::rng::string_from(
            &eca_core::SystemRng,
            b"abcdefghijklmnopqrstuvwxyz0123456789",
            12
        )
    );
    let store = eca_store::open_postgres_in_schema(&url, &schema)
        .await
        .expect("a PostgreSQL store");
    let db = Postgres {
        store,
        url: url.clone(),
        schema: schema.clone(),
    };
    // On a task of its own, so that a failing test still drops its schema.
    let outcome = tokio::spawn(body(db)).await;
    eca_store::PostgresStore::drop_schema(&url, &schema)
        .await
        .expect("schema dropped");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
