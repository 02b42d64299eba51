//! What each server process caches (apps, users) and how another node's change reaches it:
//! within the TTL the cached copy is used, after it the store is read again.

use super::*;

#[tokio::test]
async fn another_nodes_deploy_is_seen_once_the_cached_app_is_older_than_the_ttl() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    let mut spec = w.ci();
    spec.enabled = false;
    w.deploy_elsewhere(&w.app_files(&spec), &[]).await;
    // Within the TTL this node still uses the app it read.
    w.h.clock
        .set(Timestamp(w.h.clock.now().millis() + APP_TTL_MS - 1));
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Then it reads the app again, and the switch is off.
    w.h.clock.set(Timestamp(w.h.clock.now().millis() + 1));
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
}

#[tokio::test]
async fn another_nodes_change_to_a_user_is_seen_once_the_cached_user_is_older_than_the_ttl() {
    let w = world().await;
    w.deploy(&w.ci()).await;
    let token = w.cc_token().await;
    // Another node (here: the store directly) freezes the run-as user.
    let mut run_as = w.run_as.clone();
    run_as.is_frozen = true;
    w.h.store
        .update_user(&run_as, run_as.updated_at)
        .await
        .expect("store");
    let body = format!("grant_type=client_credentials&client_id={KEY}&client_secret={SECRET}");
    // Within the TTL this node still uses the user it read.
    w.h.clock
        .set(Timestamp(w.h.clock.now().millis() + USER_TTL_MS - 1));
    let reply = get_bearer(&w, "/services/data/v66.0", &token).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    // Then it reads the user again: no new token, and the old one stops working.
    w.h.clock.set(Timestamp(w.h.clock.now().millis() + 1));
    oauth_error(
        &w.token(&body).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "inactive user",
    );
    get_bearer(&w, "/services/data/v66.0", &token)
        .await
        .rest_error(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID");
}
