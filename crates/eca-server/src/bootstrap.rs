//! First start: the master key, and on an empty database the default org `demo` with its
//! profiles and first admin (issue 3, "eca serve"). Every step is idempotent: a second start
//! changes nothing and reports no password, and two nodes starting together on one database
//! settle on one set of records (a `Conflict` means the other node created it first).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use eca_core::crypto::{CryptoError, MasterKey};
use eca_core::domain::{Org, Permission, Permissions, Profile, User, UserFields};
use eca_core::rng::string_from;
use eca_core::{Clock, OrgId, ProfileId, Rng, Secret, Timestamp, UserId};
use eca_store::{Store, StoreError};

/// The default org's My Domain name.
pub const DEFAULT_DOMAIN: &str = "demo";
pub const ADMIN_USERNAME: &str = "admin@demo.example";
pub const INTEGRATION_USERNAME: &str = "integration@demo.example";
pub const SYSTEM_ADMINISTRATOR: &str = "System Administrator";
pub const STANDARD_USER: &str = "Standard User";
pub const API_ONLY: &str = "API Only";
/// Set once the default records exist.
const DONE_KEY: &str = "bootstrap.version";
const KEY_FILE: &str = "master.key";
const PASSWORD_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("master key: {0}")]
    MasterKey(#[from] CryptoError),
    /// The key file holds no key.
    #[error("master key file {path}: {source}")]
    KeyFile { path: PathBuf, source: CryptoError },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("deploying the sample app failed: {0}")]
    DemoApp(String),
    #[error("sealing the stored push credentials failed: {0}")]
    SealPush(String),
    /// A step after the first users were created failed: `users` holds them, with the
    /// passwords that will not be shown again.
    #[error("{cause}")]
    AfterUsersCreated {
        users: Vec<CreatedUser>,
        cause: Box<StartError>,
    },
    /// `ECA_ADMIN_PASSWORD` does not meet the password policy (first start only).
    #[error("admin_password (ECA_ADMIN_PASSWORD): {0}")]
    WeakAdminPassword(String),
    /// The master key is not the one the database's secrets are encrypted under.
    #[error(
        "the master key ({0}) is not the one this database was set up with: its secrets cannot be decrypted with it. Start with the database's key (ECA_MASTER_KEY, or the master.key file of the data folder it was created with); on several nodes, set the same ECA_MASTER_KEY on each"
    )]
    WrongMasterKey(String),
}

/// Whether `key` opens the default org's first stored OAuth or SAML signing key; `true` when
/// there is none (nothing to check against).
async fn opens_stored_keys(store: &dyn Store, key: &MasterKey) -> Result<bool, StartError> {
    let Some(org) = store.default_org().await? else {
        return Ok(true);
    };
    if let Some(first) = store.signing_keys(&org.id).await?.first() {
        let context = crate::oauth::keys::context(&org.id, &first.kid);
        return Ok(key.decrypt(&first.encrypted_key, &context).is_ok());
    }
    if let Some(first) = store.saml_keys(&org.id).await?.first() {
        let context = crate::saml::keys::context(&org.id, first.version);
        return Ok(key.decrypt(&first.encrypted_key, &context).is_ok());
    }
    Ok(true)
}

/// Seals push credentials that a database written by an earlier version holds in the clear
/// (`eca_deploy::seal_stored_push_credentials`); a no-op once they are.
pub async fn seal_push_credentials(
    store: &dyn Store,
    key: &MasterKey,
    rng: &dyn Rng,
) -> Result<(), StartError> {
    let report = eca_deploy::seal_stored_push_credentials(store, key, rng)
        .await
        .map_err(|e| StartError::SealPush(e.to_string()))?;
    if report.records + report.audit_entries + report.retrieves > 0 {
        tracing::info!(
            records = report.records,
            audit_entries = report.audit_entries,
            retrieves_deleted = report.retrieves,
            "sealed push credentials stored in the clear"
        );
    }
    for name in &report.unreadable {
        tracing::warn!(
            component = %name,
            "stored push settings do not parse: not sealed, and not readable through the Metadata API"
        );
    }
    Ok(())
}

/// The setting that holds a value sealed under the master key the database was set up with.
const KEY_CHECK_SETTING: &str = "master_key.check";
/// What that value seals, and under which context.
const KEY_CHECK_TEXT: &[u8] = b"OpenECA master key check";
const KEY_CHECK_CONTEXT: &[u8] = b"master-key-check";

/// Refuses to start with a master key other than the one the database's secrets are sealed
/// under: every decryption would fail at request time, as 500s, on this node only. The first
/// start seals a known text with its key and stores it if no other node stored one first;
/// every start (that one too) must open the stored value. On a database made before this check,
/// the key must first open the default org's stored signing key, if there is one, so a node
/// with a wrong key cannot seal its own.
pub async fn check_master_key(
    store: &dyn Store,
    key: &MasterKey,
    source: &KeySource,
    rng: &dyn Rng,
) -> Result<(), StartError> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::STANDARD;
    if store.setting(KEY_CHECK_SETTING).await?.is_none() {
        if !opens_stored_keys(store, key).await? {
            return Err(StartError::WrongMasterKey(source.describe()));
        }
        let sealed = key.encrypt(KEY_CHECK_TEXT, KEY_CHECK_CONTEXT, rng);
        // The first value stored stays: a node racing with another key reads theirs below.
        store
            .put_setting_if_absent(KEY_CHECK_SETTING, &engine.encode(sealed))
            .await?;
    }
    let stored = store.setting(KEY_CHECK_SETTING).await?.unwrap_or_default();
    let opens = engine
        .decode(stored.trim())
        .ok()
        .and_then(|sealed| key.decrypt(&sealed, KEY_CHECK_CONTEXT).ok())
        .is_some_and(|text| text == KEY_CHECK_TEXT);
    if opens {
        Ok(())
    } else {
        Err(StartError::WrongMasterKey(source.describe()))
    }
}

/// A user created by this start, with the password to show once.
#[derive(Debug)]
pub struct CreatedUser {
    pub username: String,
    pub password: Secret,
    /// `false` when the password came from the configuration (it is not shown again).
    pub generated: bool,
}

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ECA_MASTER_KEY` or the configuration file.
    Config,
    /// The key file, as found.
    File(PathBuf),
    /// The key file, created now.
    Created(PathBuf),
}

impl KeySource {
    /// Where the key came from, for messages.
    pub fn describe(&self) -> String {
        match self {
            KeySource::Config => "from ECA_MASTER_KEY or the configuration file".to_owned(),
            KeySource::File(path) => format!("from {}", path.display()),
            KeySource::Created(path) => format!("created now at {}", path.display()),
        }
    }
}

/// The master key from `configured`, else `<data_dir>/master.key`, created (mode 0600) with a
/// fresh random key when missing.
pub fn load_master_key(
    configured: Option<&Secret>,
    data_dir: &Path,
    rng: &dyn Rng,
) -> Result<(MasterKey, KeySource), StartError> {
    if let Some(text) = configured {
        return Ok((MasterKey::parse(text.expose())?, KeySource::Config));
    }
    let path = data_dir.join(KEY_FILE);
    let io = |source| StartError::Io {
        path: path.clone(),
        source,
    };
    let parse = |text: &str| {
        MasterKey::parse(text).map_err(|source| StartError::KeyFile {
            path: path.clone(),
            source,
        })
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => return Ok((parse(&text)?, KeySource::File(path.clone()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    let (key, text) = MasterKey::generate(rng)?;
    // Written whole to a file of its own, then linked in under the key file's name, which
    // fails if the name exists: the key file is never seen empty or half written, by another
    // process starting at once or after a crash.
    // A random name, created new: two processes never share it (process ids repeat across
    // containers sharing a volume).
    let temp = data_dir.join(format!(
        "{KEY_FILE}.{}.tmp",
        string_from(rng, b"abcdefghijklmnopqrstuvwxyz0123456789", 16)
    ));
    let temp_io = |source| StartError::Io {
        path: temp.clone(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temp).map_err(temp_io)?;
    file.write_all(format!("{text}\n").as_bytes())
        .map_err(temp_io)?;
    file.sync_all().map_err(temp_io)?;
    drop(file);
    let linked = std::fs::hard_link(&temp, &path);
    // The temporary name goes either way; failing to remove it loses nothing.
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            if let Ok(dir) = std::fs::File::open(data_dir) {
                // The new name, on disk before the key encrypts anything.
                let _ = dir.sync_all();
            }
            Ok((key, KeySource::Created(path)))
        }
        // Another process created it between our read and our link: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(&path).map_err(io)?;
            Ok((parse(&text)?, KeySource::File(path.clone())))
        }
        // A filesystem without hard links (some network shares): created new under its name.
        Err(_) => {
            let mut file = options.open(&path).map_err(io)?;
            file.write_all(format!("{text}\n").as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok((key, KeySource::Created(path.clone())))
        }
    }
}

/// What the first start creates.
#[derive(Debug, Clone, Default)]
pub struct BootstrapOptions {
    /// The admin's password; generated when `None`.
    pub admin_password: Option<Secret>,
    /// Also create the API-only integration user.
    pub demo: bool,
}

/// Creates the default records when the database has none. Returns the users created now;
/// a failure after some were created is [`StartError::AfterUsersCreated`], with them.
pub async fn bootstrap(
    store: &dyn Store,
    clock: &dyn Clock,
    rng: Arc<dyn Rng>,
    options: &BootstrapOptions,
) -> Result<Vec<CreatedUser>, StartError> {
    let mut created = Vec::new();
    match create_records(store, clock, rng, options, &mut created).await {
        Ok(()) => Ok(created),
        // A password generated and stored is shown by no later start (the user exists then):
        // a failure after it must still hand it over.
        Err(cause) if !created.is_empty() => Err(StartError::AfterUsersCreated {
            users: created,
            cause: Box::new(cause),
        }),
        Err(cause) => Err(cause),
    }
}

/// [`bootstrap`]'s work, adding each user it creates to `created` as soon as it is stored.
async fn create_records(
    store: &dyn Store,
    clock: &dyn Clock,
    rng: Arc<dyn Rng>,
    options: &BootstrapOptions,
    created: &mut Vec<CreatedUser>,
) -> Result<(), StartError> {
    let now = clock.now();
    if store.setting(DONE_KEY).await?.is_none() {
        // The first admin's password meets the policy every later password meets; checked
        // only when it is used (later starts ignore it, so an old value stops nothing).
        if let Some(password) = &options.admin_password {
            crate::rest::users::check_password(password.expose())
                .map_err(|e| StartError::WeakAdminPassword(e.to_string()))?;
        }
        let org = match store.org_by_domain(DEFAULT_DOMAIN).await? {
            Some(org) => org,
            None if store.orgs().await?.is_empty() => {
                create_default_org(store, now, rng.as_ref()).await?
            }
            // Orgs exist but none is `demo`: an operator's database; leave it alone.
            None => {
                store.put_setting(DONE_KEY, "1").await?;
                return Ok(());
            }
        };
        let admin_profile = standard_profiles(store, &org, rng.as_ref())
            .await?
            .into_iter()
            .find(|p| p.name == SYSTEM_ADMINISTRATOR);
        if let Some(profile) = admin_profile {
            let (password, generated) = match &options.admin_password {
                Some(p) => (p.clone(), false),
                None => (generate_password(rng.as_ref()), true),
            };
            let user = new_user(&org, &profile, ADMIN_USERNAME, "Admin", now, rng.as_ref());
            if create_user(store, user, &password, &rng).await? {
                created.push(CreatedUser {
                    username: ADMIN_USERNAME.to_owned(),
                    password,
                    generated,
                });
            }
        }
        store.put_setting(DONE_KEY, "1").await?;
    }
    if options.demo
        && let Some(org) = store.org_by_domain(DEFAULT_DOMAIN).await?
        && let Some(profile) = store.profile_by_name(&org.id, API_ONLY).await?
        && store
            .user_by_username(INTEGRATION_USERNAME)
            .await?
            .is_none()
    {
        let password = generate_password(rng.as_ref());
        let user = new_user(
            &org,
            &profile,
            INTEGRATION_USERNAME,
            "Integration",
            now,
            rng.as_ref(),
        );
        if create_user(store, user, &password, &rng).await? {
            created.push(CreatedUser {
                username: INTEGRATION_USERNAME.to_owned(),
                password,
                generated: true,
            });
        }
    }
    Ok(())
}

/// Creates the standard profiles of an org (System Administrator, Standard User, API Only)
/// where missing, and returns them in that order. Used by first start and by `POST eca/orgs`.
pub async fn standard_profiles(
    store: &dyn Store,
    org: &Org,
    rng: &dyn Rng,
) -> Result<Vec<Profile>, StartError> {
    let mut profiles = Vec::new();
    for (name, permissions) in default_profiles() {
        profiles.push(ensure_profile(store, org, name, permissions, rng).await?);
    }
    Ok(profiles)
}

/// The default org's profiles. System Administrator has every permission except API Only,
/// which would keep the admin out of the web UI.
fn default_profiles() -> [(&'static str, Permissions); 3] {
    let all = Permission::ALL
        .iter()
        .copied()
        .filter(|p| *p != Permission::ApiOnly)
        .collect();
    [
        (SYSTEM_ADMINISTRATOR, Permissions::new(all)),
        (
            STANDARD_USER,
            Permissions::new(vec![Permission::ApiEnabled]),
        ),
        (
            API_ONLY,
            Permissions::new(vec![Permission::ApiEnabled, Permission::ApiOnly]),
        ),
    ]
}

async fn create_default_org(
    store: &dyn Store,
    now: Timestamp,
    rng: &dyn Rng,
) -> Result<Org, StartError> {
    let org = Org {
        id: OrgId::generate(rng),
        name: "OpenECA Demo".to_owned(),
        my_domain: DEFAULT_DOMAIN.to_owned(),
        is_default: true,
        session_timeout_minutes: 120,
        enforce_ip_ranges_every_request: false,
        created_at: now,
    };
    match store.create_org(&org).await {
        Ok(()) => {
            tracing::info!(org = %org.id, "created the default org `demo`");
            Ok(org)
        }
        Err(StoreError::Conflict { .. }) => store
            .org_by_domain(DEFAULT_DOMAIN)
            .await?
            .ok_or_else(|| StoreError::Corrupt("the default org vanished".into()).into()),
        Err(e) => Err(e.into()),
    }
}

async fn ensure_profile(
    store: &dyn Store,
    org: &Org,
    name: &str,
    permissions: Permissions,
    rng: &dyn Rng,
) -> Result<Profile, StartError> {
    if let Some(p) = store.profile_by_name(&org.id, name).await? {
        return Ok(p);
    }
    let profile = Profile {
        id: ProfileId::generate(rng),
        org_id: org.id.clone(),
        name: name.to_owned(),
        permissions,
    };
    match store.create_profile(&profile).await {
        Ok(()) => Ok(profile),
        Err(StoreError::Conflict { .. }) => store
            .profile_by_name(&org.id, name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("profile {name} vanished")).into()),
        Err(e) => Err(e.into()),
    }
}

/// A new active user of `org` with the default locale settings, an e-mail equal to the
/// username, the last name `User` and no password yet.
pub fn new_user(
    org: &Org,
    profile: &Profile,
    username: &str,
    first_name: &str,
    now: Timestamp,
    rng: &dyn Rng,
) -> User {
    User {
        id: UserId::generate(rng),
        org_id: org.id.clone(),
        username: username.to_owned(),
        fields: UserFields {
            email: username.to_owned(),
            first_name: Some(first_name.to_owned()),
            last_name: "User".to_owned(),
            time_zone: "America/Los_Angeles".to_owned(),
            locale: "en_US".to_owned(),
            language: "en_US".to_owned(),
            ..UserFields::default()
        },
        profile_id: profile.id.clone(),
        is_active: true,
        is_frozen: false,
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        updated_at: now,
    }
}

/// Hashes the password (on a blocking thread) and creates the user; `false` when the username
/// was taken meanwhile.
async fn create_user(
    store: &dyn Store,
    mut user: User,
    password: &Secret,
    rng: &Arc<dyn Rng>,
) -> Result<bool, StartError> {
    if store.user_by_username(&user.username).await?.is_some() {
        return Ok(false);
    }
    let (password, rng) = (password.clone(), Arc::clone(rng));
    let hash = tokio::task::spawn_blocking(move || {
        eca_core::crypto::hash_password(&password, rng.as_ref())
    })
    .await
    .map_err(|e| StartError::Hash(e.to_string()))?
    .map_err(|e| StartError::Hash(e.to_string()))?;
    user.password_hash = Some(hash);
    match store.create_user(&user).await {
        Ok(()) => {
            tracing::info!(user = %user.id, username = %user.username, "created user");
            Ok(true)
        }
        Err(StoreError::Conflict { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// A 20-character password without look-alike characters.
pub fn generate_password(rng: &dyn Rng) -> Secret {
    Secret::new(string_from(rng, PASSWORD_ALPHABET, 20))
}
