//! OAuth usage and revocation (`spec/oauth-and-connect.md` §2): which apps are used, by whom,
//! with which refresh tokens, and revoking them by app, by app and user, or one at a time.
//!
//! Admins and viewers (`ExternalClientAppAdmin`, `ExternalClientAppViewer`) see everyone's
//! usage; only admins revoke other people's tokens. Any user may list and revoke their own
//! tokens. Revocation is one store transaction and is checked on every use of a token, on
//! every node, so it takes effect at once.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use eca_core::domain::User;
use eca_store::{AuditAction, RefreshTokenRecord};
use serde::{Deserialize, Serialize};

use super::{App, Ctx, Paging, Since, app, app_of, page_of, user, version};
use crate::auth::Authenticated;
use crate::error::ApiError;
use crate::rest::identity::rest_datetime;
use crate::rest::sobjects::insufficient_access;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct VersionPath {
    version: String,
}

#[derive(Debug, Deserialize)]
pub struct AppPath {
    version: String,
    app: String,
}

#[derive(Debug, Deserialize)]
pub struct UserPath {
    version: String,
    app: String,
    user: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenPath {
    version: String,
    token: String,
}

/// "App OAuth Usage": one app with usage.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUsage {
    pub access_token_format: &'static str,
    pub available_actions: &'static str,
    pub description: Option<String>,
    pub developer_name: String,
    pub identifier: String,
    pub is_from_package: bool,
    pub usage_details_url: String,
}

/// "App OAuth Usage Collection".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUsageCollection {
    pub apps: Vec<AppUsage>,
    pub current_page_url: String,
    /// Present on every page, even the last, as Salesforce's (§2).
    pub next_page_url: String,
}

/// "App OAuth Usage User" and "App OAuth Usage Token": the same keys (§2).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageEntry {
    pub access_token_format: &'static str,
    pub app_developer_name: String,
    pub app_identifier: String,
    pub initial_connection_at: String,
    pub last_used_at: String,
    pub revocation_url: String,
    pub use_count: i64,
    pub user_identifier: String,
    pub username: String,
}

/// "App OAuth Usage User Collection".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserCollection {
    pub current_page_url: String,
    pub next_page_url: String,
    pub users: Vec<UsageEntry>,
}

/// "App OAuth Usage Token Collection".
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenCollection {
    pub current_page_url: String,
    pub tokens: Vec<UsageEntry>,
}

fn page_url(path: &str, page: i64, size: i64) -> String {
    format!("{path}?page={page}&pageSize={size}")
}

/// `GET apps/oauth/usage`: the apps with live tokens, by name, paged.
pub async fn apps(
    State(state): State<AppState>,
    Path(path): Path<VersionPath>,
    Query(paging): Query<Paging>,
    auth: Authenticated,
) -> Result<Json<AppUsageCollection>, ApiError> {
    let version = version(&path.version, Since::Usage)?;
    let mut ctx = Ctx::load(&state, auth, &version).await?;
    ctx.check(&state, "apps/oauth/usage", ctx.require_view_usage())
        .await?;
    let (page, size) = paging.parse()?;
    ctx.sync_tokens(&state).await;
    let org = ctx.org();
    let names = state
        .store()
        .apps_with_usage(&org.id, ctx.now, page_of(page, size))
        .await?;
    let mut apps = Vec::with_capacity(names.len());
    for name in names {
        let Some(stored) = state
            .store()
            .component(
                &org.id,
                eca_metadata::MetadataType::ExternalClientApplication.name(),
                &name,
            )
            .await?
        else {
            // Deleted between the two reads.
            continue;
        };
        let app = app_of(&state, org, &stored.full_name, &stored.xml).await?;
        apps.push(AppUsage {
            access_token_format: app.access_token_format(),
            // Salesforce's sample value (§2): the app can be switched on and off.
            available_actions: "disable, enable",
            description: app.header.description.clone(),
            developer_name: app.name().to_owned(),
            identifier: app.id.to_string(),
            // Apps here are deployed, never installed from a package.
            is_from_package: false,
            usage_details_url: format!("{}/usage/{}/users", ctx.base, app.id),
        });
    }
    let url = format!("{}/usage", ctx.base);
    ctx.audit(
        &state,
        AuditAction::UsageViewed,
        "apps/oauth/usage",
        format!("listed {} apps (page {page})", apps.len()),
    )
    .await?;
    Ok(Json(AppUsageCollection {
        apps,
        current_page_url: page_url(&url, page, size),
        next_page_url: page_url(&url, page + 1, size),
    }))
}

/// `GET apps/oauth/usage/{app}/users`: the users with live tokens of an app, paged.
pub async fn users(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    Query(paging): Query<Paging>,
    auth: Authenticated,
) -> Result<Json<UserCollection>, ApiError> {
    let version = version(&path.version, Since::Usage)?;
    let mut ctx = Ctx::load(&state, auth, &version).await?;
    ctx.check(
        &state,
        &format!("apps/oauth/usage/{}/users", path.app),
        ctx.require_view_usage(),
    )
    .await?;
    let (page, size) = paging.parse()?;
    let app = app(&state, ctx.org(), &path.app).await?;
    ctx.sync_tokens(&state).await;
    let usage = state
        .store()
        .app_users(&ctx.org().id, app.name(), ctx.now, page_of(page, size))
        .await?;
    let users: Vec<UsageEntry> = usage
        .into_iter()
        .map(|u| UsageEntry {
            access_token_format: app.access_token_format(),
            app_developer_name: app.name().to_owned(),
            app_identifier: app.id.to_string(),
            initial_connection_at: rest_datetime(u.first_used_at),
            last_used_at: rest_datetime(u.last_used_at),
            revocation_url: format!("{}/usage/{}/{}/tokens", ctx.base, app.id, u.user_id),
            use_count: u.use_count,
            user_identifier: u.user_id.to_string(),
            username: u.username,
        })
        .collect();
    ctx.audit(
        &state,
        AuditAction::UsageViewed,
        &format!("apps/oauth/usage/{}/users", app.name()),
        format!("listed {} users (page {page})", users.len()),
    )
    .await?;
    let url = format!("{}/usage/{}/users", ctx.base, app.id);
    Ok(Json(UserCollection {
        current_page_url: page_url(&url, page, size),
        next_page_url: page_url(&url, page + 1, size),
        users,
    }))
}

/// The app and user of a `usage/{app}/{user}/...` path, once the caller may act for that
/// user: themselves, or anyone for `anyone_allowed`.
async fn app_and_user(
    state: &AppState,
    ctx: &Ctx,
    path: &UserPath,
    anyone_allowed: bool,
    needs: &str,
) -> Result<(App, User), ApiError> {
    let app = app(state, ctx.org(), &path.app).await?;
    let user = user(state, ctx.org(), &path.user).await?;
    if user.id != ctx.user().id && !anyone_allowed {
        let resource = format!("apps/oauth/usage/{}/{}/tokens", app.name(), user.id);
        return Err(ctx
            .refused(state, &resource, insufficient_access(needs))
            .await);
    }
    Ok((app, user))
}

fn token_entry(ctx: &Ctx, app: &App, user: &User, t: &RefreshTokenRecord) -> UsageEntry {
    UsageEntry {
        access_token_format: app.access_token_format(),
        app_developer_name: app.name().to_owned(),
        app_identifier: app.id.to_string(),
        initial_connection_at: rest_datetime(t.issued_at),
        last_used_at: rest_datetime(t.last_used_at),
        revocation_url: format!("{}/usage/tokens/{}", ctx.base, t.token_hash),
        use_count: t.use_count,
        user_identifier: user.id.to_string(),
        username: user.username.clone(),
    }
}

/// `GET apps/oauth/usage/{app}/{user}/tokens`: the user's live refresh tokens of the app.
pub async fn user_tokens(
    State(state): State<AppState>,
    Path(path): Path<UserPath>,
    auth: Authenticated,
) -> Result<Json<TokenCollection>, ApiError> {
    let version = version(&path.version, Since::Usage)?;
    let mut ctx = Ctx::load(&state, auth, &version).await?;
    let (app, user) = app_and_user(
        &state,
        &ctx,
        &path,
        ctx.can_view_usage(),
        "External Client App Admin or External Client App Viewer",
    )
    .await?;
    ctx.sync_tokens(&state).await;
    let tokens = state
        .store()
        .user_refresh_tokens(&ctx.org().id, app.name(), &user.id, ctx.now)
        .await?;
    let tokens: Vec<UsageEntry> = tokens
        .iter()
        .map(|t| token_entry(&ctx, &app, &user, t))
        .collect();
    ctx.audit(
        &state,
        AuditAction::UsageViewed,
        &format!("apps/oauth/usage/{}/{}/tokens", app.name(), user.id),
        format!("listed {} tokens", tokens.len()),
    )
    .await?;
    Ok(Json(TokenCollection {
        current_page_url: format!("{}/usage/{}/{}/tokens", ctx.base, app.id, user.id),
        tokens,
    }))
}

/// `DELETE apps/oauth/usage/{app}/{user}/tokens`: revokes every token of the user through
/// the app, refresh and access alike. 204.
pub async fn revoke_user_tokens(
    State(state): State<AppState>,
    Path(path): Path<UserPath>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    let version = version(&path.version, Since::Usage)?;
    let mut ctx = Ctx::load(&state, auth, &version).await?;
    let (app, user) = app_and_user(
        &state,
        &ctx,
        &path,
        ctx.can_revoke_any(),
        "External Client App Admin",
    )
    .await?;
    ctx.sync_tokens(&state).await;
    let n = state
        .store()
        .revoke_user_app_tokens(&ctx.org().id, app.name(), &user.id, ctx.now)
        .await?;
    tracing::info!(app = %app.name(), user = %user.id, revoked = n, by = %ctx.user().id, "user's tokens revoked");
    ctx.audit(
        &state,
        AuditAction::TokensRevoked,
        &format!("apps/oauth/usage/{}/{}/tokens", app.name(), user.id),
        format!("revoked {n} tokens"),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE apps/oauth/usage/{app}/tokens`: revokes every token of the app. Admins only. 204.
pub async fn revoke_app_tokens(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    let version = version(&path.version, Since::Usage)?;
    let mut ctx = Ctx::load(&state, auth, &version).await?;
    if !ctx.can_revoke_any() {
        let resource = format!("apps/oauth/usage/{}/tokens", path.app);
        return Err(ctx
            .refused(
                &state,
                &resource,
                insufficient_access("External Client App Admin"),
            )
            .await);
    }
    let app = app(&state, ctx.org(), &path.app).await?;
    ctx.sync_tokens(&state).await;
    let n = state
        .store()
        .revoke_app_tokens(&ctx.org().id, app.name(), ctx.now)
        .await?;
    tracing::info!(app = %app.name(), revoked = n, by = %ctx.user().id, "app's tokens revoked");
    ctx.audit(
        &state,
        AuditAction::TokensRevoked,
        &format!("apps/oauth/usage/{}/tokens", app.name()),
        format!("revoked {n} tokens"),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether `s` can be a token identifier: the refresh token's SHA-256, 64 hex digits.
fn is_token_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `DELETE apps/oauth/usage/tokens/{token}`: revokes one refresh token and the rest of its
/// grant (the refresh tokens rotation replaced, and the access tokens issued from any of them).
/// Its owner or an admin. 204; 404 when it is unknown or its grant is no longer live. A token
/// that rotation has replaced since it was listed still names its grant.
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(path): Path<TokenPath>,
    auth: Authenticated,
) -> Result<StatusCode, ApiError> {
    let version = version(&path.version, Since::Usage)?;
    let mut ctx = Ctx::load(&state, auth, &version).await?;
    let missing = || {
        ApiError::NotFound(format!(
            "The requested resource does not exist: no live token `{}` in this org",
            path.token
        ))
    };
    if !is_token_identifier(&path.token) {
        return Err(missing());
    }
    let hash = path.token.to_ascii_lowercase();
    let token = state
        .store()
        .refresh_token(&hash)
        .await?
        .filter(|t| t.org_id == ctx.org().id && t.revoked_at.is_none())
        .ok_or_else(missing)?;
    let live = if token.rotated_at.is_none() {
        token.expires_at.is_none_or(|end| end > ctx.now)
    } else {
        // Rotation replaced it after it was listed: the grant lives on in its newest token,
        // and revoking this one revokes that too.
        state
            .store()
            .user_refresh_tokens(&ctx.org().id, &token.app_name, &token.user_id, ctx.now)
            .await?
            .iter()
            .any(|t| t.family_id == token.family_id)
    };
    if !live {
        return Err(missing());
    }
    if token.user_id != ctx.user().id && !ctx.can_revoke_any() {
        return Err(ctx
            .refused(
                &state,
                &format!("apps/oauth/usage/tokens/{hash}"),
                insufficient_access("External Client App Admin"),
            )
            .await);
    }
    // Access tokens issued from the grant may still be written behind.
    ctx.sync_tokens(&state).await;
    state.store().revoke_refresh_token(&hash, ctx.now).await?;
    tracing::info!(app = %token.app_name, user = %token.user_id, by = %ctx.user().id, "refresh token revoked");
    ctx.audit(
        &state,
        AuditAction::TokensRevoked,
        &format!("apps/oauth/usage/tokens/{hash}"),
        format!(
            "revoked a refresh token of {} for {}",
            token.app_name, token.user_id
        ),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
