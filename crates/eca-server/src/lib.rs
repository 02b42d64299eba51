//! The OpenECA HTTP server: orgs (each at its own base URL), sessions, the SOAP partner
//! `login`/`logout` that Salesforce clients use without an app, the REST probes they make first
//! (`/services/data`, the resource map, the identity URL), and health, readiness and metrics
//! endpoints.
//!
//! Entry points: [`start`] (open the store, load the master key, create the default org on an
//! empty database) gives an [`AppState`]; [`app`] turns a state into a router; [`run`] serves
//! it until a shutdown future completes. The server reads no environment and no wall clock of
//! its own: configuration, clock and randomness are passed in.
//!
//! Layout: thin handlers in `rest/`, `soap/`, `connect/` (the Connect REST API's OAuth usage
//! and credentials) and `ops`; the HTTP-free logic they call in
//! `login` and `session`; one error type and its one rendering in `error`.

pub mod access;
pub mod auth;
pub mod bootstrap;
pub mod cache;
pub mod config;
pub mod connect;
pub mod demo_app;
pub mod directory;
pub mod error;
pub mod housekeeping;
mod http;
mod key_rollover;
pub mod login;
pub mod metadata;
pub mod metrics;
pub mod nodes;
pub mod oauth;
pub mod ops;
pub mod org;
pub mod proxy;
pub mod rest;
pub mod saml;
pub mod session;
pub mod soap;
pub mod state;
pub mod web;

use std::net::SocketAddr;
use std::sync::Arc;

use eca_core::{Clock, Rng};

pub use bootstrap::{BootstrapOptions, CreatedUser, KeySource, StartError, bootstrap};
pub use config::{Config, ConfigLayer, LogFormat, PublicUrl};
pub use error::ApiError;
pub use http::{app, run};
pub use state::{AppState, Settings};

/// A server ready to serve, and what its start did.
#[derive(Debug)]
pub struct Started {
    pub state: AppState,
    /// Users created by this start, with their passwords: shown once, never logged.
    pub created_users: Vec<CreatedUser>,
    /// The sample app `--demo` deployed on this start, with its credentials: shown once.
    pub demo_app: Option<demo_app::DemoApp>,
    pub key_source: KeySource,
}

/// Prepares a server for `config`, listening on `bound` (the address actually bound, which
/// gives the default public URL when port 0 was asked for).
pub async fn start(
    config: &Config,
    bound: SocketAddr,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
) -> Result<Started, StartError> {
    create_private_dir(&config.data_dir)?;
    let (master_key, key_source) =
        bootstrap::load_master_key(config.master_key.as_ref(), &config.data_dir, rng.as_ref())?;
    let store = eca_store::open(config.database_url.expose()).await?;
    bootstrap::check_master_key(store.as_ref(), &master_key, &key_source, rng.as_ref()).await?;
    bootstrap::seal_push_credentials(store.as_ref(), &master_key, rng.as_ref()).await?;
    let options = BootstrapOptions {
        admin_password: config.admin_password.clone(),
        demo: config.demo,
    };
    let created_users =
        bootstrap(store.as_ref(), clock.as_ref(), Arc::clone(&rng), &options).await?;
    let settings = Settings::from_config(config, PublicUrl::for_listen_addr(bound));
    let state = AppState::new(store, clock, rng, master_key, settings);
    // The users are committed: a failure from here on must still hand over their passwords,
    // which no later start shows.
    let rest = async {
        let store = state.store();
        let now = state.clock().now();
        nodes::join(store, state.node_id(), now).await?;
        match (
            config.demo,
            store.org_by_domain(bootstrap::DEFAULT_DOMAIN).await?,
        ) {
            (true, Some(org)) => {
                demo_app::ensure_demo_app(
                    store,
                    &org,
                    state.clock(),
                    state.rng(),
                    state.master_key(),
                    state.node_id(),
                )
                .await
            }
            _ => Ok(None),
        }
    };
    let demo_app = match rest.await {
        Ok(app) => app,
        Err(cause) if !created_users.is_empty() => {
            return Err(StartError::AfterUsersCreated {
                users: created_users,
                cause: Box::new(cause),
            });
        }
        Err(cause) => return Err(cause),
    };
    Ok(Started {
        state,
        created_users,
        demo_app,
        key_source,
    })
}

/// Creates the data folder (mode 0700 on Unix: it holds the master key and the database).
fn create_private_dir(dir: &std::path::Path) -> Result<(), StartError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| StartError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    // A folder that existed before is left as it is, but said so when others may read it: it
    // holds the master key and, on SQLite, the database.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(dir)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                data_dir = %dir.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the data folder is open to other users; it holds the master key and the database: chmod 700 it"
            );
        }
    }
    Ok(())
}
