//! A server killed with SIGKILL in the middle of a large deploy (issue 4, "How it is
//! checked"): after a restart the org is exactly as before (full retrieves compared) and the
//! deploy request reads `Failed`: at once on a SQLite file, and on PostgreSQL (when
//! `ECA_TEST_DATABASE_URL` is set) once the killed node has been silent for a minute.

use super::*;

const NS: &str = "http://soap.sforce.com/2006/04/metadata";
const PASSWORD: &str = "Kill-Test-Password-42";
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A Metadata API folder of `apps` OAuth apps (header, OAuth settings, global settings).
fn mdapi_folder(dir: &Path, prefix: &str, apps: usize) {
    let mut members: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    let mut write = |folder: &str, ty: &'static str, name: String, suffix: &str, body: String| {
        let path = dir.join(folder);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(
            path.join(format!("{name}.{suffix}")),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{ty} xmlns=\"{NS}\">\n{body}\n</{ty}>\n"
            ),
        )
        .unwrap();
        members.entry(ty).or_default().push(name);
    };
    for i in 0..apps {
        let app = format!("{prefix}{i}");
        write(
            "externalClientApps",
            "ExternalClientApplication",
            app.clone(),
            "eca",
            format!(
                "<contactEmail>dev@example.com</contactEmail><distributionState>Local</distributionState><label>{app}</label>"
            ),
        );
        write(
            "extlClntAppOauthSettings",
            "ExtlClntAppOauthSettings",
            format!("{app}_oauth"),
            "ecaOauth",
            format!(
                "<commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes><externalClientApplication>{app}</externalClientApplication><label>{app} OAuth</label>"
            ),
        );
        write(
            "extlClntAppGlobalOauthSets",
            "ExtlClntAppGlobalOauthSettings",
            format!("{app}_glbloauth"),
            "ecaGlblOauth",
            format!(
                "<callbackUrl>https://app.example.com/callback</callbackUrl><externalClientApplication>{app}</externalClientApplication><label>{app} consumer</label>"
            ),
        );
    }
    let types: String = members
        .iter()
        .map(|(ty, names)| {
            let members: String = names
                .iter()
                .map(|n| format!("<members>{n}</members>"))
                .collect();
            format!("<types>{members}<name>{ty}</name></types>")
        })
        .collect();
    std::fs::write(
        dir.join("package.xml"),
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Package xmlns=\"{NS}\">{types}<version>66.0</version></Package>\n"
        ),
    )
    .unwrap();
}

/// Every component of the org, retrieved into a fresh project, by path.
fn full_retrieve(
    config: &Path,
    dir: &Path,
    name: &str,
) -> std::collections::BTreeMap<String, String> {
    let parent = dir.to_str().unwrap();
    eca(
        config,
        &["project", "init", name, "--output-dir", parent],
        "",
    )
    .ok();
    let project = dir.join(name);
    eca(
        config,
        &[
            "retrieve",
            "--output-dir",
            project.to_str().unwrap(),
            "--target-org",
            "dev",
            "--json",
        ],
        "",
    )
    .ok();
    files_under(&project.join("force-app"))
}

/// The deploy request's result, read with the stored session over REST.
fn deploy_result(config: &Path, url: &str, id: &str) -> Value {
    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(config.join("auth/dev.json")).unwrap())
            .unwrap();
    let session = stored["session_id"].as_str().unwrap();
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "30",
            "-H",
            &format!("Authorization: Bearer {session}"),
            &format!("{url}/services/data/v66.0/metadata/deployRequest/{id}"),
        ])
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// Deploys `apps` apps and kills the server with SIGKILL once the deploy is in progress;
/// returns the deploy id.
fn deploy_and_kill(config: &Path, tmp: &Path, mut server: Server, apps: usize) -> String {
    let folder = tmp.join("big");
    mdapi_folder(&folder, "Big", apps);
    let mut deploy = Command::new(env!("CARGO_BIN_EXE_eca"))
        .args([
            "deploy",
            "--source-dir",
            folder.to_str().unwrap(),
            "--target-org",
            "dev",
        ])
        .env("ECA_CONFIG_DIR", config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eca deploy runs");
    let (tx, rx) = mpsc::channel();
    let err = deploy.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut id = None;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match rx.recv_timeout(left) {
            Ok(Ok(line)) => line,
            other => panic!("eca deploy stopped before InProgress ({other:?}): {seen:?}"),
        };
        if let Some(found) = line.strip_prefix("Deploy ID: ") {
            id = Some(found.to_owned());
        }
        let in_progress = line.starts_with("Status: InProgress");
        assert!(
            !line.starts_with("Status: Succeeded") && !line.starts_with("Status: Failed"),
            "the deploy ended before the kill: make it larger ({seen:?})"
        );
        seen.push(line);
        if in_progress {
            break;
        }
    }
    // SIGKILL: no shutdown handler runs, the transaction in flight dies with the process.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let _ = deploy.kill();
    let _ = deploy.wait();
    id.unwrap_or_else(|| panic!("no deploy id printed: {seen:?}"))
}

/// The whole scenario, with the server's database chosen by `env`. `age_nodes`, on
/// PostgreSQL, makes every node's last heartbeat two minutes older, as if the killed node had
/// been silent that long: there the restarted node leaves the request `InProgress` until then
/// (another node might still be running it), and its next heartbeat fails it.
fn killed_mid_deploy_leaves_the_org_as_before(env: &[(&str, &str)], age_nodes: Option<&dyn Fn()>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = tmp.path().join("config");
    let server = serve(&data, env, &[]);
    login(&config, &server.url, PASSWORD, "dev");
    let small = tmp.path().join("small");
    mdapi_folder(&small, "Kept", 2);
    eca(
        &config,
        &[
            "deploy",
            "--source-dir",
            small.to_str().unwrap(),
            "--target-org",
            "dev",
        ],
        "",
    )
    .ok();
    let before = full_retrieve(&config, tmp.path(), "before");
    assert!(before.len() >= 6, "{before:?}");

    let id = deploy_and_kill(&config, tmp.path(), server, 1000);
    assert!(id.starts_with("0Af"), "{id}");

    let restarted = serve(&data, env, &[]);
    login(&config, &restarted.url, PASSWORD, "dev");
    let after = full_retrieve(&config, tmp.path(), "after");
    assert_eq!(after, before, "the org changed");
    let mut result = deploy_result(&config, &restarted.url, &id);
    if let Some(age_nodes) = age_nodes {
        // Still running, as far as the restarted node knows, unless the steps since the kill
        // took long enough for it to find the killed node silent by itself.
        let status = &result["deployResult"]["status"];
        assert!(status == "InProgress" || status == "Failed", "{result}");
        age_nodes();
        // The restarted node beats every 10 s.
        let deadline = Instant::now() + Duration::from_secs(30);
        while result["deployResult"]["status"] == "InProgress" && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
            result = deploy_result(&config, &restarted.url, &id);
        }
    }
    let result = &result["deployResult"];
    assert_eq!(result["status"], "Failed", "{result}");
    assert_eq!(result["done"], true, "{result}");
    assert!(
        result["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("nothing was changed")),
        "{result}"
    );
}

#[test]
fn sigkill_mid_deploy_on_sqlite() {
    killed_mid_deploy_leaves_the_org_as_before(
        &[("ECA_ADMIN_PASSWORD", PASSWORD), ("ECA_MASTER_KEY", KEY)],
        None,
    );
}

#[test]
fn sigkill_mid_deploy_on_postgres() {
    let Some(url) = std::env::var("ECA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("SKIPPED sigkill_mid_deploy_on_postgres: ECA_TEST_DATABASE_URL is not set");
        return;
    };
    let schema = format!(
        "eca_kill_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    );
    let psql = |sql: &str| {
        let out = Command::new("psql")
            .args([url.as_str(), "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
            .output()
            .expect("psql runs (it comes with PostgreSQL)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    psql(&format!("CREATE SCHEMA \"{schema}\""));
    /// Drops the schema however the test ends.
    struct Dropper<F: Fn(&str)>(F, String);
    impl<F: Fn(&str)> Drop for Dropper<F> {
        fn drop(&mut self) {
            (self.0)(&format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.1));
        }
    }
    let _dropper = Dropper(psql, schema.clone());
    let age_nodes = || {
        psql(&format!(
            "UPDATE \"{schema}\".server_nodes SET seen_at = seen_at - 120000"
        ))
    };
    let separator = if url.contains('?') { '&' } else { '?' };
    let database_url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    killed_mid_deploy_leaves_the_org_as_before(
        &[
            ("ECA_DATABASE_URL", database_url.as_str()),
            ("ECA_ADMIN_PASSWORD", PASSWORD),
            ("ECA_MASTER_KEY", KEY),
        ],
        Some(&age_nodes),
    );
}
