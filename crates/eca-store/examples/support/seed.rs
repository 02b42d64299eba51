//! What the store's measurement examples set up first: an org with a profile, and its users.
//! Not an example itself (`cargo` builds `examples/*.rs` and `examples/*/main.rs` only); each
//! example takes it in with `#[path = "support/seed.rs"] mod seed;`.

use eca_core::domain::{Org, Permission, Permissions, Profile, User, UserFields};
use eca_core::{OrgId, ProfileId, SystemRng, Timestamp, UserId};
use eca_store::Store;

/// 2026-11-26T00:00:00Z: every seeded row's creation time.
pub const T0: i64 = 1_795_651_200_000;

/// The default org "Bench" with one API Enabled profile, "Standard".
pub async fn org_and_profile(store: &dyn Store) -> (Org, Profile) {
    let org = Org {
        id: OrgId::generate(&SystemRng),
        name: "Bench".into(),
        my_domain: "bench".into(),
        is_default: true,
        session_timeout_minutes: 120,
        enforce_ip_ranges_every_request: false,
        created_at: Timestamp(T0),
    };
    store.create_org(&org).await.unwrap();
    let profile = Profile {
        id: ProfileId::generate(&SystemRng),
        org_id: org.id.clone(),
        name: "Standard".into(),
        permissions: Permissions::new(vec![Permission::ApiEnabled]),
    };
    store.create_profile(&profile).await.unwrap();
    (org, profile)
}

/// User number `i` of `org` (`user{i}@bench.example`), with `profile`.
pub async fn user(store: &dyn Store, org: &Org, profile: &Profile, i: usize) -> User {
    let user = User {
        id: UserId::generate(&SystemRng),
        org_id: org.id.clone(),
        username: format!("user{i}@bench.example"),
        fields: UserFields {
            email: format!("user{i}@bench.example"),
            last_name: "Bench".into(),
            ..UserFields::default()
        },
        profile_id: profile.id.clone(),
        is_active: true,
        is_frozen: false,
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        created_at: Timestamp(T0),
        updated_at: Timestamp(T0),
    };
    store.create_user(&user).await.unwrap();
    user
}
