//! The login IP ranges of the [`AccessStore`](eca_store::AccessStore) contract: ranges
//! belong to a profile of their own org, come back oldest first with both addresses intact
//! (IPv4 and IPv6), can be changed and deleted, and go with their profile's org.

use eca_core::domain::LoginIpRange;
use eca_core::net::AddressRange;
use eca_core::{LoginIpRangeId, ProfileId, SystemRng, Timestamp};

use crate::{Env, T0, assert_conflict, assert_missing, new_profile, seed};

on_every_backend!(
    login_ip_ranges_round_trip,
    login_ip_ranges_stay_in_their_org
);

fn range(profile: &eca_core::domain::Profile, start: &str, end: &str, secs: i64) -> LoginIpRange {
    let at = Timestamp(T0.millis() + secs * 1000);
    LoginIpRange {
        id: LoginIpRangeId::generate(&SystemRng),
        org_id: profile.org_id.clone(),
        profile_id: profile.id.clone(),
        range: AddressRange::parse(start, end).unwrap(),
        description: Some(format!("{start} to {end}")),
        created_at: at,
        last_modified_at: at,
    }
}

async fn login_ip_ranges_round_trip(env: Env) {
    let s = env.store;
    let (org, standard, _) = seed(s.as_ref(), "acme", "alice@acme.test").await;
    let admin = new_profile(&org, "System Administrator");
    s.create_profile(&admin).await.unwrap();

    let office = range(&standard, "10.0.0.0", "10.0.0.255", 2);
    let v6 = range(&standard, "2001:db8::", "2001:db8::ffff", 1);
    let mut vpn = range(&admin, "192.0.2.10", "192.0.2.10", 3);
    vpn.description = None;
    for r in [&office, &v6, &vpn] {
        s.create_login_ip_range(r).await.unwrap();
    }
    assert_conflict(s.create_login_ip_range(&office).await, "login IP range");

    assert_eq!(
        s.login_ip_range(&vpn.id).await.unwrap().as_ref(),
        Some(&vpn)
    );
    assert_eq!(
        s.login_ip_range(&LoginIpRangeId::generate(&SystemRng))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.login_ip_ranges_of(&standard.id).await.unwrap(),
        vec![v6.clone(), office.clone()]
    );
    assert_eq!(
        s.login_ip_ranges(&org.id).await.unwrap(),
        vec![v6.clone(), office.clone(), vpn.clone()]
    );

    let mut moved = office.clone();
    moved.range = AddressRange::parse("10.1.0.0", "10.1.255.255").unwrap();
    moved.description = None;
    moved.last_modified_at = T0.plus_secs(60);
    s.update_login_ip_range(&moved).await.unwrap();
    assert_eq!(s.login_ip_range(&office.id).await.unwrap(), Some(moved));
    assert_missing(
        s.update_login_ip_range(&range(&standard, "10.0.0.1", "10.0.0.1", 9))
            .await,
        "login IP range",
    );

    assert!(s.delete_login_ip_range(&v6.id).await.unwrap());
    assert!(!s.delete_login_ip_range(&v6.id).await.unwrap());
    assert_eq!(s.login_ip_ranges_of(&standard.id).await.unwrap().len(), 1);
    assert_eq!(s.login_ip_ranges_of(&admin.id).await.unwrap(), vec![vpn]);
}

async fn login_ip_ranges_stay_in_their_org(env: Env) {
    let s = env.store;
    let (org_a, profile_a, _) = seed(s.as_ref(), "a", "alice@a.test").await;
    let (_, profile_b, _) = seed(s.as_ref(), "b", "bob@b.test").await;

    // A profile of another org, or no profile at all, is refused.
    let mut foreign = range(&profile_b, "10.0.0.1", "10.0.0.2", 0);
    foreign.org_id = org_a.id.clone();
    assert_missing(
        s.create_login_ip_range(&foreign).await,
        "profile in the range's org",
    );
    let mut ghost = range(&profile_a, "10.0.0.1", "10.0.0.2", 0);
    ghost.profile_id = ProfileId::generate(&SystemRng);
    assert_missing(
        s.create_login_ip_range(&ghost).await,
        "profile in the range's org",
    );

    s.create_login_ip_range(&range(&profile_b, "10.0.0.1", "10.0.0.2", 0))
        .await
        .unwrap();
    assert_eq!(s.login_ip_ranges(&org_a.id).await.unwrap(), vec![]);
    assert_eq!(s.login_ip_ranges_of(&profile_a.id).await.unwrap(), vec![]);
}
