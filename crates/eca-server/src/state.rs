//! [`AppState`]: everything a request needs, built once by the caller and passed in (no
//! globals, `STYLE.md` §4). Tests build it with a `ManualClock`, a deterministic RNG and an
//! in-memory store.

use std::sync::Arc;
use std::time::Duration;

use eca_core::crypto::MasterKey;
use eca_core::{Clock, OrgId, Rng, Secret, Timestamp};
use eca_deploy::OrgLocks;
use eca_oauth::SecretDigester;
use eca_store::{Lockout, Store};
use tokio::sync::Semaphore;

use crate::config::{Config, DEFAULT_BODY_LIMIT, DEFAULT_REQUEST_TIMEOUT, PublicUrl};
use crate::directory::Directory;
use crate::error::ApiError;
use crate::login::limiter::LoginLimiter;
use crate::metrics::Metrics;
use crate::oauth::keys::KeyCache;
use crate::oauth::registry::AppCache;
use crate::oauth::token_writer::{TokenWriter, TokenWrites};
use crate::proxy::TrustedProxies;

/// Failed-login policy.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    /// Consecutive failures that lock a user.
    pub max_failures: i64,
    /// How long a locked user stays locked.
    pub lockout_minutes: i64,
    /// Failed logins one client address may make per minute before it is refused outright.
    pub failures_per_ip_per_minute: u32,
}

impl LoginPolicy {
    /// The lock a failed login at `now` sets, should it be the `max_failures`-th in a row.
    pub fn lockout(&self, now: Timestamp) -> Lockout {
        Lockout {
            after: self.max_failures,
            until: now.plus_minutes(self.lockout_minutes),
        }
    }
}

impl Default for LoginPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout_minutes: 15,
            failures_per_ip_per_minute: 20,
        }
    }
}

/// The HTTP-facing settings of a running server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The fallback base URL, for requests without a usable `Host`.
    pub public_url: PublicUrl,
    pub body_limit: usize,
    pub request_timeout: Duration,
    pub login: LoginPolicy,
    /// Log every request at INFO (else at DEBUG, which the default level filters out).
    pub access_log: bool,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
}

impl Settings {
    pub fn new(public_url: PublicUrl) -> Self {
        Self {
            public_url,
            body_limit: DEFAULT_BODY_LIMIT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            login: LoginPolicy::default(),
            access_log: false,
            trusted_proxies: TrustedProxies::default(),
        }
    }

    /// The settings of `config`, with `public_url` the configured one or `fallback`.
    pub fn from_config(config: &Config, fallback: PublicUrl) -> Self {
        Self {
            public_url: config.public_url.clone().unwrap_or(fallback),
            body_limit: config.body_limit,
            request_timeout: config.request_timeout,
            login: LoginPolicy::default(),
            access_log: config.access_log,
            trusted_proxies: config.trusted_proxies.clone(),
        }
    }
}

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    master_key: Arc<MasterKey>,
    settings: Settings,
    metrics: Metrics,
    limiter: LoginLimiter,
    /// Wrong device user codes per user (`oauth::activate`).
    user_code_limiter: LoginLimiter<eca_core::UserId>,
    /// Retrieves per org (`metadata::MAX_RETRIEVES_PER_MINUTE`).
    retrieve_limiter: LoginLimiter<OrgId>,
    login_turns: crate::login::turns::LoginTurns,
    /// Argon2id takes ~19 MiB and tens of milliseconds per hash: at most this many at once,
    /// each on a blocking thread, so a burst of logins cannot exhaust memory or starve the
    /// async workers.
    hashing: Arc<Semaphore>,
    /// Password checks started ([`AppState::password_checks`]).
    password_checks: std::sync::atomic::AtomicU64,
    /// Keys the digests consumer secrets are compared through (`oauth::registry`); random per
    /// process, since digests are never stored.
    digester: SecretDigester,
    /// This process's id among the server nodes sharing the database (`nodes`).
    node_id: String,
    /// One deploy at a time per org (the Metadata API, `metadata/`).
    deploy_locks: Arc<OrgLocks>,
    /// Room for deploys in flight (`metadata::MAX_DEPLOYS_IN_FLIGHT`).
    deploy_slots: Arc<Semaphore>,
    /// Room for each org's deploys in flight (`metadata::MAX_DEPLOYS_PER_ORG`), by org.
    org_deploy_slots: std::sync::Mutex<std::collections::HashMap<OrgId, Arc<Semaphore>>>,
    /// Group commit of issued access tokens (`oauth::token_writer`).
    token_writer: TokenWriter,
    /// Deployed apps, kept for a few seconds (`oauth::registry`).
    apps: AppCache,
    /// Each org's current token signing key, parsed (`oauth::keys`).
    signing_keys: KeyCache,
    /// SAML signing keys, parsed (`saml::keys`).
    saml_keys: crate::saml::keys::SamlKeyCache,
    /// Orgs, users and user access, kept for a few seconds (`directory`).
    directory: Directory,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("backend", &self.0.store.backend())
            .field("settings", &self.0.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
        master_key: MasterKey,
        settings: Settings,
    ) -> Self {
        let metrics = Metrics::new(store.backend());
        let token_writes = TokenWrites::for_backend(store.backend());
        let limiter = LoginLimiter::new(settings.login.failures_per_ip_per_minute, 60_000);
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 8));
        let digester = SecretDigester::random(rng.as_ref());
        let node_id = crate::nodes::new_id(rng.as_ref());
        let user_code_limiter = LoginLimiter::new(
            crate::oauth::activate::WRONG_CODES_PER_USER,
            crate::oauth::activate::WRONG_CODES_WINDOW_MS,
        );
        let retrieve_limiter = LoginLimiter::new(crate::metadata::MAX_RETRIEVES_PER_MINUTE, 60_000);
        Self(Arc::new(Inner {
            store,
            clock,
            rng,
            master_key: Arc::new(master_key),
            settings,
            metrics,
            limiter,
            user_code_limiter,
            retrieve_limiter,
            login_turns: crate::login::turns::LoginTurns::default(),
            hashing: Arc::new(Semaphore::new(threads)),
            password_checks: std::sync::atomic::AtomicU64::new(0),
            digester,
            node_id,
            deploy_locks: Arc::new(OrgLocks::new()),
            deploy_slots: Arc::new(Semaphore::new(crate::metadata::MAX_DEPLOYS_IN_FLIGHT)),
            org_deploy_slots: std::sync::Mutex::default(),
            token_writer: TokenWriter::new(token_writes),
            apps: AppCache::default(),
            signing_keys: KeyCache::default(),
            saml_keys: Default::default(),
            directory: Directory::default(),
        }))
    }

    pub fn store(&self) -> &dyn Store {
        self.0.store.as_ref()
    }

    /// The store, shared (for work that outlives a request, like a group commit).
    pub fn shared_store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    pub fn clock(&self) -> &dyn Clock {
        self.0.clock.as_ref()
    }

    pub fn rng(&self) -> &dyn Rng {
        self.0.rng.as_ref()
    }

    /// This process's id among the server nodes sharing the database (`nodes`).
    pub fn node_id(&self) -> &str {
        &self.0.node_id
    }

    /// The key consumer secrets are encrypted under (used by the OAuth issue's app store).
    pub fn master_key(&self) -> &MasterKey {
        &self.0.master_key
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub fn limiter(&self) -> &LoginLimiter {
        &self.0.limiter
    }

    /// Retrieves per org, on this node.
    pub fn retrieve_limiter(&self) -> &LoginLimiter<OrgId> {
        &self.0.retrieve_limiter
    }

    /// Wrong device user codes per user, on this node.
    pub fn user_code_limiter(&self) -> &LoginLimiter<eca_core::UserId> {
        &self.0.user_code_limiter
    }

    /// One password check at a time per user on this node (`login::turns`).
    pub fn login_turns(&self) -> &crate::login::turns::LoginTurns {
        &self.0.login_turns
    }

    /// The keyed digest consumer secrets are checked through (OAuth client authentication).
    pub fn digester(&self) -> &SecretDigester {
        &self.0.digester
    }

    /// The per-org deploy locks, shared by every deploy of this server.
    pub fn deploy_locks(&self) -> &Arc<OrgLocks> {
        &self.0.deploy_locks
    }

    /// Room for deploys in flight on this node.
    pub fn deploy_slots(&self) -> &Arc<Semaphore> {
        &self.0.deploy_slots
    }

    /// Room for `org`'s deploys in flight on this node.
    pub fn org_deploy_slots(&self, org: &OrgId) -> Arc<Semaphore> {
        let mut slots = self
            .0
            .org_deploy_slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(
            slots
                .entry(org.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(crate::metadata::MAX_DEPLOYS_PER_ORG))),
        )
    }

    /// Where issued access tokens are written, together with concurrent ones.
    pub fn token_writer(&self) -> &TokenWriter {
        &self.0.token_writer
    }

    /// The deployed apps recently read from the store.
    pub fn apps(&self) -> &AppCache {
        &self.0.apps
    }

    /// The orgs, users and user access recently read from the store.
    pub fn directory(&self) -> &Directory {
        &self.0.directory
    }

    /// The orgs' current signing keys, parsed.
    pub fn signing_keys(&self) -> &KeyCache {
        &self.0.signing_keys
    }

    /// SAML signing keys, parsed.
    pub fn saml_keys(&self) -> &crate::saml::keys::SamlKeyCache {
        &self.0.saml_keys
    }

    /// Checks a password against a PHC string on a blocking thread, at most as many at once as
    /// there are cores.
    pub async fn verify_password(&self, password: Secret, phc: String) -> Result<bool, ApiError> {
        self.0
            .password_checks
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // The permit goes with the job, so a caller that gives up (a timeout) frees its place
        // only when the hash is done.
        let permit = Arc::clone(&self.0.hashing)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal("the hashing semaphore is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let matches = eca_core::crypto::verify_password(&password, &phc);
            drop(permit);
            matches
        })
        .await
        .map_err(|e| ApiError::Internal(format!("password check failed: {e}")))
    }

    /// How many password checks [`AppState::verify_password`] has started: every login
    /// attempt costs one, whatever its outcome (tests count them).
    pub fn password_checks(&self) -> u64 {
        self.0
            .password_checks
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Hashes a new password (Argon2id) on a blocking thread, under the same limit as
    /// [`AppState::verify_password`].
    pub async fn hash_password(&self, password: Secret) -> Result<String, ApiError> {
        let permit = Arc::clone(&self.0.hashing)
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal("the hashing semaphore is closed".into()))?;
        let rng = Arc::clone(&self.0.rng);
        tokio::task::spawn_blocking(move || {
            let hash = eca_core::crypto::hash_password(&password, rng.as_ref());
            drop(permit);
            hash
        })
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))?
        .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))
    }
}
