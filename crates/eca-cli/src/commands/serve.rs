//! `eca serve`: the OpenECA server in one process on one port. Settings come from flags, then
//! `ECA_*` environment variables, then `--config FILE` (TOML, the same keys in snake_case),
//! then defaults. Passwords created on first start are printed once on standard output and
//! never logged; logs go to standard error. The actual address is printed as
//! `listening on http://ADDR`, which `--listen 127.0.0.1:0` makes useful.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use eca_core::{Secret, SystemClock, SystemRng};
use eca_server::{Config, ConfigLayer, LogFormat};

use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The address to listen on [env: ECA_LISTEN] [default: 127.0.0.1:8080]. Port 0 picks a
    /// free port.
    #[arg(long)]
    listen: Option<String>,
    /// Where the SQLite database and the master key live [env: ECA_DATA_DIR] [default: ./.eca].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://...` [env: ECA_DATABASE_URL] [default: SQLite in the data dir].
    #[arg(long)]
    database_url: Option<String>,
    /// The base URL told to clients when a request has no usable Host header
    /// [env: ECA_PUBLIC_URL] [default: http://<listen address>].
    #[arg(long)]
    public_url: Option<String>,
    /// A TOML file with the same settings (listen, data_dir, database_url, public_url,
    /// log_format, demo, admin_password, master_key, body_limit, request_timeout_secs, access_log,
    /// trusted_proxies).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Also create the API-only user integration@demo.example.
    #[arg(long)]
    demo: bool,
    /// `text` or `json` [env: ECA_LOG_FORMAT] [default: text].
    #[arg(long)]
    log_format: Option<String>,
    /// Log one line per request: method, path, status, latency [env: ECA_ACCESS_LOG=1].
    #[arg(long)]
    access_log: bool,
    /// A reverse proxy (address or CIDR block) whose X-Forwarded-For names the client;
    /// repeatable [env: ECA_TRUSTED_PROXIES, comma-separated].
    #[arg(long = "trusted-proxy")]
    trusted_proxies: Vec<String>,
}

impl Args {
    fn layer(&self) -> ConfigLayer {
        ConfigLayer {
            listen: self.listen.clone(),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            public_url: self.public_url.clone(),
            log_format: self.log_format.clone(),
            demo: self.demo.then_some(true),
            access_log: self.access_log.then_some(true),
            trusted_proxies: (!self.trusted_proxies.is_empty())
                .then(|| self.trusted_proxies.clone()),
            ..ConfigLayer::default()
        }
    }
}

/// The `ECA_*` variables. The binary is the one place allowed to read the environment
/// (`clippy.toml`); the server library gets the resolved [`Config`].
#[allow(clippy::disallowed_methods)]
fn env_layer() -> anyhow::Result<ConfigLayer> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let access_log = match var("ECA_ACCESS_LOG") {
        None => None,
        Some(v) => Some(match v.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "0" | "false" | "no" | "off" => false,
            _ => anyhow::bail!(
                "ECA_ACCESS_LOG: `{v}` is not a yes or no (true/false, 1/0, yes/no, on/off)"
            ),
        }),
    };
    Ok(ConfigLayer {
        listen: var("ECA_LISTEN"),
        data_dir: var("ECA_DATA_DIR").map(PathBuf::from),
        database_url: var("ECA_DATABASE_URL"),
        public_url: var("ECA_PUBLIC_URL"),
        log_format: var("ECA_LOG_FORMAT"),
        admin_password: var("ECA_ADMIN_PASSWORD").map(Secret::new),
        master_key: var("ECA_MASTER_KEY").map(Secret::new),
        access_log,
        trusted_proxies: var("ECA_TRUSTED_PROXIES")
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect()),
        ..ConfigLayer::default()
    })
}

pub fn run(args: &Args, _ctx: &Context) -> anyhow::Result<ExitCode> {
    let file = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            ConfigLayer::from_toml(&text).with_context(|| path.display().to_string())?
        }
        None => ConfigLayer::default(),
    };
    let config = Config::resolve(args.layer().or(env_layer()?).or(file))?;
    init_logging(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(config))?;
    Ok(ExitCode::SUCCESS)
}

/// The users this start created, with their passwords: on standard output only, once (the
/// password is never logged).
fn show_created(users: &[eca_server::bootstrap::CreatedUser]) {
    for user in users {
        if user.generated {
            output::line(&format!(
                "created {} with password {} (shown once: keep it now)",
                user.username,
                user.password.expose()
            ));
        } else {
            output::line(&format!(
                "created {} with the password from ECA_ADMIN_PASSWORD",
                user.username
            ));
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let bound = listener.local_addr()?;
    tracing::info!(database = config.database_kind(), data_dir = %config.data_dir.display(), "starting");
    let started =
        match eca_server::start(&config, bound, Arc::new(SystemClock), Arc::new(SystemRng)).await {
            Ok(started) => started,
            // The users exist now: their passwords are shown even though the start failed.
            Err(eca_server::bootstrap::StartError::AfterUsersCreated { users, cause }) => {
                show_created(&users);
                return Err(anyhow::Error::new(*cause).context("starting the server"));
            }
            Err(e) => return Err(anyhow::Error::new(e).context("starting the server")),
        };
    tracing::info!(key = ?started.key_source, "master key loaded");
    show_created(&started.created_users);
    if let Some(app) = &started.demo_app {
        // Standard output only, once, like the passwords above.
        output::line(&format!(
            "deployed the sample app {}: consumer key {} and consumer secret {} (shown once: keep them now)",
            app.name,
            app.consumer_key,
            app.consumer_secret.expose()
        ));
    }
    let public_url = started.state.settings().public_url.to_string();
    // Handlers go in before the `listening` line: a supervisor (or a test) may signal as soon
    // as it reads it, and an unhandled SIGTERM would kill the process without a clean stop.
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    output::line(&format!("listening on http://{bound}"));
    tracing::info!(address = %bound, %public_url, "listening");
    eca_server::run(listener, started.state, shutdown)
        .await
        .context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers now and returns a future that completes when
/// either signal arrives.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => tracing::info!("SIGINT: shutting down"),
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
        }
        // A second signal while requests drain: stop now, as a second Ctrl-C asks.
        tokio::spawn(async move {
            // 128 + the signal's number, as a shell reports a process the signal ended.
            let status = tokio::select! {
                _ = interrupt.recv() => 130,
                _ = terminate.recv() => 143,
            };
            tracing::warn!("second signal: exiting without waiting for requests in flight");
            std::process::exit(status);
        });
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C: shutting down");
        }
    })
}

/// Logs to standard error, as text or one JSON object per line, at INFO and above.
fn init_logging(format: LogFormat) {
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_max_level(tracing::Level::INFO)
        .with_target(false);
    // A subscriber already set (by an embedding program) is kept.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
