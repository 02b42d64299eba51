//! Hostile and broken zips: each one a failed result with a clear problem, never a panic or an
//! `Err`, and never a change to the org.

use eca_deploy::{DeployOptions, ProblemType};
use eca_store::DeployStatus;

use crate::{World, header, package, problems, zip_of};

const PKG: &str = r#"<Package xmlns="http://soap.sforce.com/2006/04/metadata"><types><members>*</members><name>ExternalClientApplication</name></types><version>66.0</version></Package>"#;

fn entries(list: &[(&str, &[u8])]) -> Vec<u8> {
    zip_of(
        &list
            .iter()
            .map(|(n, d)| ((*n).to_owned(), d.to_vec()))
            .collect::<Vec<_>>(),
    )
}

/// A zip naming `package.xml` twice: written with a second name of the same length, then
/// renamed in its local header and the central directory alike (zip writers refuse to write
/// the same name twice, so this is made by hand, as an attacker would).
fn twice_named() -> Vec<u8> {
    let harmless = PKG.as_bytes();
    let destructive = br#"<Package xmlns="http://soap.sforce.com/2006/04/metadata"><version>66.0</version></Package>"#;
    let mut bytes = entries(&[("package.xml", harmless), ("packagX.xml", destructive)]);
    let (from, to) = (b"packagX.xml", b"package.xml");
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(from.len()).position(|w| w == from) {
        bytes[at + i..at + i + from.len()].copy_from_slice(to);
        at += i + from.len();
    }
    bytes
}

/// A zip whose one entry expands 1000:1 past the ratio limit.
fn bomb() -> Vec<u8> {
    entries(&[
        ("package.xml", PKG.as_bytes()),
        ("externalClientApps/Big.eca", &vec![b' '; 8 << 20]),
    ])
}

#[tokio::test]
async fn bad_zips_fail_cleanly() {
    let world = World::new().await;
    let org = world.org("acme").await;
    world.deploy_ok(&org, &package(&[header("Keep")])).await;
    let before = world.snapshot(&org).await;
    let good = package(&[header("Shop")]);
    let doctype = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><ExternalClientApplication xmlns="http://soap.sforce.com/2006/04/metadata"><label>&a;</label></ExternalClientApplication>"#;
    // (zip, file the problem is reported on, text of the problem)
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (
            b"not a zip at all".to_vec(),
            "deploy.zip",
            "not a valid zip archive",
        ),
        (Vec::new(), "deploy.zip", "not a valid zip archive"),
        (
            good[..good.len() / 2].to_vec(),
            "deploy.zip",
            "not a valid zip archive",
        ),
        (bomb(), "deploy.zip", "zip bomb"),
        (
            entries(&[("package.xml", PKG.as_bytes()), ("../evil.eca", b"x")]),
            "deploy.zip",
            "unsafe path",
        ),
        (
            entries(&[("package.xml", PKG.as_bytes()), ("/etc/evil.eca", b"x")]),
            "deploy.zip",
            "unsafe path",
        ),
        (
            entries(&[
                ("package.xml", PKG.as_bytes()),
                ("externalClientApps/A.eca", b"x"),
                ("./externalClientApps/A.eca", b"y"),
            ]),
            "deploy.zip",
            "duplicate entry",
        ),
        (twice_named(), "deploy.zip", "more than once"),
        (
            entries(&[("externalClientApps/A.eca", b"<x/>")]),
            "package.xml",
            "No package.xml found",
        ),
        (
            entries(&[("package.xml", b"<Package><unclosed></Package>")]),
            "package.xml",
            "",
        ),
        (
            entries(&[
                ("package.xml", PKG.as_bytes()),
                ("destructiveChanges.xml", b"<Oops/>"),
            ]),
            "destructiveChanges.xml",
            "expected <Package>",
        ),
    ];
    for (zip, file, text) in cases {
        for options in [DeployOptions::default(), crate::ignore_warnings()] {
            let outcome = world.deploy(&org, &zip, options).await;
            let r = &outcome.result;
            assert_eq!(
                (r.status, r.done, r.success),
                (DeployStatus::Failed, true, false),
                "{text}"
            );
            let failure = &r.details.component_failures[0];
            assert_eq!(failure.file_name, file, "{text}");
            // A manifest that does not parse names its line and column in the fields too,
            // not only in the message.
            if file.ends_with(".xml") && text != "No package.xml found" {
                assert_eq!(failure.line_number, Some(1), "{text}: {failure:?}");
                assert!(failure.column_number.is_some(), "{text}: {failure:?}");
            }
            assert!(
                failure.problem.as_deref().unwrap().contains(text),
                "{text}: {failure:?}"
            );
            assert!(r.error_message.as_deref().unwrap().contains(text));
            assert_eq!(
                world.snapshot(&org).await.components,
                before.components,
                "{text}"
            );
        }
    }

    // A DOCTYPE inside a component is that component's failure (ECA0003), and entities are
    // never expanded.
    let zip = entries(&[
        ("package.xml", PKG.as_bytes()),
        ("externalClientApps/Evil.eca", doctype.as_bytes()),
    ]);
    let outcome = world.deploy(&org, &zip, crate::ignore_warnings()).await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    let all = problems(&outcome.result);
    assert!(
        all.iter()
            .any(|(n, k, p)| n == "Evil" && *k == ProblemType::Error && p.contains("[ECA0003]")),
        "{all:#?}"
    );
    assert_eq!(world.snapshot(&org).await.components, before.components);
    // The requests were all recorded, and failed.
    assert!(world.audit(&org).await.len() == before.audit);
}

#[tokio::test]
async fn files_the_validator_cannot_place_fail() {
    let world = World::new().await;
    let org = world.org("acme").await;
    let zip = entries(&[
        ("package.xml", PKG.as_bytes()),
        ("extlClntAppPolicies/Shop.ecaPolicy", b"<x/>"),
    ]);
    let outcome = world.deploy(&org, &zip, crate::ignore_warnings()).await;
    assert_eq!(outcome.result.status, DeployStatus::Failed);
    let all = problems(&outcome.result);
    assert!(
        all.iter()
            .any(|(_, k, p)| *k == ProblemType::Error && p.contains("[ECA0010]")),
        "{all:#?}"
    );
}
