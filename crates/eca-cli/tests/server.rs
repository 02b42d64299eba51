//! `eca serve`, `eca login` and `eca org display` as a user runs them: the real binary on port
//! 0 in a temporary data folder, every wait bounded, every server killed when its test ends.
//! With `ECA_TEST_DATABASE_URL` set, two servers share one PostgreSQL schema.

// Test code throughout: helpers panic on any failure, waits are bounded by the monotonic
// clock, and the PostgreSQL test reads its switch from the environment.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const ADMIN: &str = "admin@demo.example";
const STARTUP: Duration = Duration::from_secs(90);

/// A running `eca serve`; killed on drop.
struct Server {
    child: Child,
    url: String,
    /// Standard output up to and including the `listening on` line.
    stdout: Vec<String>,
    stderr: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Sends SIGTERM and waits (bounded) for a clean exit.
    fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let log = std::fs::read_to_string(&self.stderr).unwrap_or_default();
                assert!(status.success(), "exit {status}:\n{log}");
                return log;
            }
            assert!(Instant::now() < deadline, "the server ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Starts `eca serve --listen 127.0.0.1:0 --data-dir DIR` with only the given `ECA_*`
/// variables, and waits for its `listening on` line.
fn serve(data_dir: &Path, envs: &[(&str, &str)], extra: &[&str]) -> Server {
    let stderr = data_dir.with_extension("stderr.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_eca"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap());
    for var in [
        "ECA_LISTEN",
        "ECA_DATA_DIR",
        "ECA_DATABASE_URL",
        "ECA_PUBLIC_URL",
        "ECA_ADMIN_PASSWORD",
        "ECA_MASTER_KEY",
        "ECA_LOG_FORMAT",
    ] {
        command.env_remove(var);
    }
    command.envs(envs.iter().copied());
    let mut child = command.spawn().expect("eca serve starts");
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut server = Server {
        child,
        url: String::new(),
        stdout: Vec::new(),
        stderr,
    };
    let deadline = Instant::now() + STARTUP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Ok(line)) => {
                let address = line.strip_prefix("listening on ").map(str::to_owned);
                server.stdout.push(line);
                if let Some(url) = address {
                    server.url = url;
                    return server;
                }
            }
            _ => {
                let log = std::fs::read_to_string(&server.stderr).unwrap_or_default();
                panic!(
                    "no `listening on` line within {STARTUP:?}\nstdout: {:?}\nstderr:\n{log}",
                    server.stdout
                );
            }
        }
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

/// Runs `eca ARGS` with `ECA_CONFIG_DIR=config` and `stdin` as standard input.
fn eca(config: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eca"))
        .args(args)
        .env("ECA_CONFIG_DIR", config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eca runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn login(config: &Path, url: &str, password: &str, alias: &str) -> Value {
    eca(
        config,
        &[
            "login",
            "--instance-url",
            url,
            "--username",
            ADMIN,
            "--password-stdin",
            "--alias",
            alias,
            "--json",
        ],
        &format!("{password}\n"),
    )
    .ok()
    .json()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn serve_login_and_org_display() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let password = "Cli-Test-Password-42";
    let server = serve(
        &tmp.path().join("data"),
        &[("ECA_ADMIN_PASSWORD", password)],
        &[],
    );
    assert_eq!(
        server.stdout[0],
        "created admin@demo.example with the password from ECA_ADMIN_PASSWORD"
    );
    assert!(
        server.url.starts_with("http://127.0.0.1:"),
        "{}",
        server.url
    );

    let logged_in = login(&config, &server.url, password, "local");
    assert_eq!(logged_in["alias"], "local");
    assert_eq!(logged_in["username"], ADMIN);
    let org_id = logged_in["orgId"].as_str().unwrap().to_owned();
    assert!(org_id.starts_with("00D") && org_id.len() == 18, "{org_id}");
    let file = config.join("auth/local.json");
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert!(
        stored["session_id"]
            .as_str()
            .unwrap()
            .starts_with(&org_id[..15])
    );

    let shown = eca(
        &config,
        &["org", "display", "--target-org", "local", "--json"],
        "",
    )
    .ok()
    .json();
    assert_eq!(shown["id"], org_id.as_str());
    assert_eq!(shown["username"], ADMIN);
    assert_eq!(shown["instanceUrl"], server.url.as_str());
    assert_eq!(shown["apiVersion"], "66.0");
    assert_eq!(shown["connectedStatus"], "Connected");
    assert_eq!(shown["displayName"], "Admin User");
    // The first login is the default one.
    let text = eca(&config, &["org", "display"], "").ok();
    assert!(
        text.stdout.contains("Connected Status  Connected"),
        "{}",
        text.stdout
    );

    // The same org at its /orgs/<mydomain> address. (`demo.localhost` is tested in-process:
    // glibc does not resolve `*.localhost` names.)
    let other = login(
        &config,
        &format!("{}/orgs/demo", server.url),
        password,
        "other",
    );
    assert_eq!(other["orgId"], org_id.as_str());
    eca(&config, &["org", "display", "--target-org", "other"], "").ok();

    let wrong = eca(
        &config,
        &[
            "login",
            "--instance-url",
            &server.url,
            "--username",
            ADMIN,
            "--password-stdin",
        ],
        "wrong\n",
    );
    assert_eq!(wrong.code, 1);
    assert!(wrong.stderr.contains("INVALID_LOGIN"), "{}", wrong.stderr);
    // A login saved under an alias is found by its username too; here two are, so the
    // aliases are named.
    let by_username = eca(&config, &["org", "display", "--target-org", ADMIN], "");
    assert_eq!(by_username.code, 1, "{}", by_username.stderr);
    assert!(
        by_username.stderr.contains("(local, other)"),
        "{}",
        by_username.stderr
    );
    std::fs::remove_file(config.join("auth/other.json")).unwrap();
    let by_username = eca(&config, &["org", "display", "--target-org", ADMIN], "");
    assert_eq!(by_username.code, 0, "{}", by_username.stderr);
    let missing = eca(&config, &["org", "display", "--target-org", "nobody"], "");
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("no login named `nobody`"),
        "{}",
        missing.stderr
    );

    let log = server.terminate();
    assert!(log.contains("SIGTERM: shutting down"), "{log}");
    assert!(
        !log.contains(password),
        "the password reached the log:\n{log}"
    );
    // The session is stored; the server is gone: not connected.
    let offline = eca(&config, &["org", "display", "--target-org", "local"], "");
    assert_eq!(offline.code, 1);
}

#[test]
fn a_generated_password_is_printed_once() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let first = serve(&data, &[], &["--demo"]);
    let password_of = |user: &str| {
        first
            .stdout
            .iter()
            .find_map(|l| l.strip_prefix(&format!("created {user} with password ")))
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("no password for {user} in {:?}", first.stdout))
            .to_owned()
    };
    let password = password_of(ADMIN);
    let integration = password_of("integration@demo.example");
    assert!(password.len() >= 16 && integration.len() >= 16);
    assert_ne!(password, integration);
    #[cfg(unix)]
    assert_eq!(mode(&data.join("master.key")), 0o600);
    let log = first.terminate();
    assert!(
        !log.contains(&password),
        "the password reached the log:\n{log}"
    );

    let again = serve(&data, &[], &["--demo"]);
    assert_eq!(again.stdout.len(), 1, "{:?}", again.stdout);
    login(&tmp.path().join("config"), &again.url, &password, "local");
}

#[test]
fn two_servers_share_sessions_on_postgres() {
    let Some(url) = std::env::var("ECA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!(
            "SKIPPED two_servers_share_sessions_on_postgres: ECA_TEST_DATABASE_URL is not set"
        );
        return;
    };
    let schema = format!(
        "eca_cli_{}_{}",
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

    let separator = if url.contains('?') { '&' } else { '?' };
    let database_url = format!("{url}{separator}options=-c%20search_path%3D{schema}");
    let key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let env = [
        ("ECA_DATABASE_URL", database_url.as_str()),
        ("ECA_ADMIN_PASSWORD", "Pg-Test-Password-42"),
        ("ECA_MASTER_KEY", key),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let a = serve(&tmp.path().join("a"), &env, &[]);
    let b = serve(&tmp.path().join("b"), &env, &[]);
    assert_eq!(
        a.stdout.len(),
        2,
        "the first node creates the admin: {:?}",
        a.stdout
    );
    assert_eq!(
        b.stdout.len(),
        1,
        "the second node creates nothing: {:?}",
        b.stdout
    );

    let config = tmp.path().join("config");
    let on_a = login(&config, &a.url, "Pg-Test-Password-42", "a");
    // The same stored session, pointed at the other node.
    let mut stored: Value =
        serde_json::from_str(&std::fs::read_to_string(config.join("auth/a.json")).unwrap())
            .unwrap();
    stored["instance_url"] = Value::String(b.url.clone());
    std::fs::write(config.join("auth/b.json"), stored.to_string()).unwrap();
    let shown = eca(
        &config,
        &["org", "display", "--target-org", "b", "--json"],
        "",
    )
    .ok()
    .json();
    assert_eq!(shown["connectedStatus"], "Connected");
    assert_eq!(shown["id"], on_a["orgId"]);
    assert_eq!(shown["instanceUrl"], b.url.as_str());
}

/// `eca login` as `username` at `url`, saved as `alias`.
fn login_as(config: &Path, url: &str, username: &str, password: &str, alias: &str) -> Run {
    eca(
        config,
        &[
            "login",
            "--instance-url",
            url,
            "--username",
            username,
            "--password-stdin",
            "--alias",
            alias,
            "--json",
        ],
        &format!("{password}\n"),
    )
}

#[test]
fn orgs_users_permission_sets_and_profiles_over_the_api() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let password = "Cli-People-Password-42";
    let server = serve(
        &tmp.path().join("data"),
        &[("ECA_ADMIN_PASSWORD", password)],
        &[],
    );
    login(&config, &server.url, password, "local");
    let run = |args: &[&str]| eca(&config, args, "");

    // A new org, made by the default org's admin, with a generated admin password.
    let org = run(&[
        "org",
        "create",
        "--name",
        "Acme Corp",
        "--target-org",
        "local",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(org["myDomain"], "acme-corp");
    let instance_url = format!("{}/orgs/acme-corp", server.url);
    assert_eq!(org["instanceUrl"], instance_url.as_str());
    let port = server.url.rsplit(':').next().unwrap();
    assert_eq!(
        org["domainUrl"],
        format!("http://acme-corp.localhost:{port}")
    );
    assert_eq!(org["adminUsername"], "admin@acme-corp.example");
    let admin_password = org["adminPassword"].as_str().unwrap().to_owned();
    let text = run(&[
        "org",
        "create",
        "--name",
        "Globex",
        "--my-domain",
        "globex",
        "--target-org",
        "local",
    ])
    .ok();
    assert!(
        text.stdout.contains("My Domain       globex"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("(shown once: keep it now)"),
        "{}",
        text.stdout
    );
    let orgs = run(&["org", "list", "--target-org", "local", "--json"])
        .ok()
        .json();
    let domains: Vec<&str> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["myDomain"].as_str().unwrap())
        .collect();
    assert_eq!(domains, ["demo", "acme-corp", "globex"]);
    let table = run(&["org", "list", "--target-org", "local"]).ok();
    assert!(table.stdout.starts_with("MY DOMAIN"), "{}", table.stdout);

    // Log in to it and manage its people.
    let acme = login_as(
        &config,
        &instance_url,
        "admin@acme-corp.example",
        &admin_password,
        "acme",
    )
    .ok()
    .json();
    assert_eq!(acme["orgId"], org["id"]);
    let denied = run(&["org", "list", "--target-org", "acme"]);
    assert_eq!(denied.code, 1);
    assert!(
        denied.stderr.contains("INSUFFICIENT_ACCESS"),
        "{}",
        denied.stderr
    );

    let set = run(&[
        "permset",
        "create",
        "--name",
        "ECA_Admins",
        "--permission",
        "ExternalClientAppAdmin",
        "--permission",
        "apienabled",
        "--target-org",
        "acme",
        "--json",
    ])
    .ok()
    .json();
    assert!(set["id"].as_str().unwrap().starts_with("0PS"), "{set}");
    assert_eq!(
        set["permissions"],
        serde_json::json!(["ExternalClientAppAdmin", "ApiEnabled"])
    );
    let typo = run(&[
        "permset",
        "create",
        "--name",
        "X",
        "--permission",
        "ExternalClientAppAdmn",
        "--target-org",
        "acme",
    ]);
    assert_eq!(typo.code, 1);
    assert!(
        typo.stderr
            .contains("did you mean `ExternalClientAppAdmin`?"),
        "{}",
        typo.stderr
    );

    let ops = eca(
        &config,
        &[
            "user",
            "create",
            "--username",
            "ops@acme.example",
            "--last-name",
            "Ops",
            "--first-name",
            "Olga",
            "--permset",
            "ECA_Admins",
            "--federation-id",
            "ops-1",
            "--password-stdin",
            "--target-org",
            "acme",
            "--json",
        ],
        "Ops-Password-1\n",
    )
    .ok()
    .json();
    assert!(ops["id"].as_str().unwrap().starts_with("005"), "{ops}");
    assert_eq!(ops["profile"], "Standard User");
    assert_eq!(ops["permissionSets"], serde_json::json!(["ECA_Admins"]));
    assert_eq!(ops["passwordSet"], true);
    let api = run(&[
        "user",
        "create",
        "--username",
        "api@acme.example",
        "--last-name",
        "Api",
        "--api-only",
        "--target-org",
        "acme",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(api["profile"], "API Only");
    assert_eq!(api["passwordSet"], false);
    let duplicate = run(&[
        "user",
        "create",
        "--username",
        "OPS@acme.example",
        "--last-name",
        "Again",
        "--target-org",
        "acme",
    ]);
    assert_eq!(duplicate.code, 1);
    assert!(
        duplicate.stderr.contains("DUPLICATE_USERNAME"),
        "{}",
        duplicate.stderr
    );
    let missing_set = run(&[
        "user",
        "create",
        "--username",
        "x@acme.example",
        "--last-name",
        "X",
        "--permset",
        "ECA_Admin",
        "--target-org",
        "acme",
    ]);
    assert_eq!(missing_set.code, 1);
    assert!(
        missing_set.stderr.contains("did you mean `ECA_Admins`?"),
        "{}",
        missing_set.stderr
    );
    // The password given at creation works.
    login_as(
        &config,
        &instance_url,
        "ops@acme.example",
        "Ops-Password-1",
        "ops",
    )
    .ok();

    let users = run(&["user", "list", "--target-org", "acme", "--json"])
        .ok()
        .json();
    let users = users.as_array().unwrap();
    let names: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "admin@acme-corp.example",
            "api@acme.example",
            "ops@acme.example"
        ]
    );
    assert_eq!(users[2]["name"], "Olga Ops");
    assert_eq!(users[2]["profile"], "Standard User");
    assert_eq!(users[2]["federationId"], "ops-1");
    assert_eq!(
        users[2]["permissionSets"],
        serde_json::json!(["ECA_Admins"])
    );
    assert_eq!(users[0]["profile"], "System Administrator");
    let table = run(&["user", "list", "--target-org", "acme"]).ok();
    assert!(table.stdout.starts_with("USERNAME"), "{}", table.stdout);
    assert!(table.stdout.contains("ECA_Admins"), "{}", table.stdout);

    let updated = run(&[
        "user",
        "update",
        "ops@acme.example",
        "--email",
        "olga@acme.example",
        "--profile",
        "API Only",
        "--target-org",
        "acme",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(updated["username"], "ops@acme.example");
    let nothing = run(&["user", "update", "ops@acme.example", "--target-org", "acme"]);
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.stderr.contains("nothing to change"),
        "{}",
        nothing.stderr
    );
    let unknown = run(&[
        "user",
        "update",
        "nobody@acme.example",
        "--active",
        "true",
        "--target-org",
        "acme",
    ]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("there is no user `nobody@acme.example`"),
        "{}",
        unknown.stderr
    );

    run(&[
        "permset",
        "create",
        "--name",
        "Viewers",
        "--permission",
        "ExternalClientAppViewer",
        "--target-org",
        "acme",
    ])
    .ok();
    let assigned = run(&[
        "permset",
        "assign",
        "--name",
        "Viewers",
        "--username",
        "api@acme.example",
        "--target-org",
        "acme",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(assigned["permissionSet"], "Viewers");
    assert_eq!(assigned["userId"], api["id"]);
    assert!(
        assigned["id"].as_str().unwrap().starts_with("0Pa"),
        "{assigned}"
    );

    // Deactivation ends the user's session.
    run(&["org", "display", "--target-org", "ops"]).ok();
    run(&[
        "user",
        "deactivate",
        "ops@acme.example",
        "--target-org",
        "acme",
        "--json",
    ])
    .ok();
    let ended = run(&["org", "display", "--target-org", "ops"]);
    assert_eq!(ended.code, 1);
    let users = run(&["user", "list", "--target-org", "acme", "--json"])
        .ok()
        .json();
    let ops = &users.as_array().unwrap()[2];
    assert_eq!(ops["isActive"], false);
    assert_eq!(ops["email"], "olga@acme.example");
    assert_eq!(ops["profile"], "API Only");
    assert_eq!(
        users.as_array().unwrap()[1]["permissionSets"],
        serde_json::json!(["Viewers"])
    );

    let profiles = run(&["profile", "list", "--target-org", "acme", "--json"])
        .ok()
        .json();
    let profiles = profiles.as_array().unwrap();
    let names: Vec<&str> = profiles
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["API Only", "Standard User", "System Administrator"]);
    assert_eq!(
        profiles[0]["permissions"],
        serde_json::json!(["ApiEnabled", "ApiUserOnly"])
    );
    assert!(
        profiles[2]["permissions"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("ManageUsers"))
    );
    let table = run(&["profile", "list", "--target-org", "acme"]).ok();
    assert!(table.stdout.starts_with("NAME"), "{}", table.stdout);

    // Login IP ranges of a profile: added, listed, refused when wrong, removed.
    let range = |more: &[&str]| {
        let mut args = vec!["profile", "ip-range", "add", "--profile", "Standard User"];
        args.extend_from_slice(more);
        args.extend_from_slice(&["--target-org", "acme"]);
        run(&args)
    };
    let added = range(&[
        "--start",
        "10.0.0.0",
        "--end",
        "10.0.0.255",
        "--description",
        "Office",
        "--json",
    ])
    .ok()
    .json();
    let id = added["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("02w"), "{added}");
    let listed = run(&[
        "profile",
        "ip-range",
        "list",
        "--profile",
        "Standard User",
        "--target-org",
        "acme",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(listed[0]["startAddress"], "10.0.0.0", "{listed}");
    assert_eq!(listed[0]["endAddress"], "10.0.0.255");
    assert_eq!(listed[0]["profile"], "Standard User");
    assert_eq!(listed[0]["description"], "Office");
    let reversed = range(&["--start", "10.0.0.9", "--end", "10.0.0.1"]);
    assert_eq!(reversed.code, 1, "{}", reversed.stderr);
    assert!(
        reversed.stderr.contains("after its end"),
        "{}",
        reversed.stderr
    );
    let unknown = run(&[
        "profile",
        "ip-range",
        "add",
        "--profile",
        "Nobody",
        "--start",
        "10.0.0.1",
        "--end",
        "10.0.0.1",
        "--target-org",
        "acme",
    ]);
    assert!(
        unknown.stderr.contains("Standard User"),
        "{}",
        unknown.stderr
    );
    run(&["profile", "ip-range", "remove", &id, "--target-org", "acme"]).ok();
    let listed = run(&[
        "profile",
        "ip-range",
        "list",
        "--target-org",
        "acme",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(listed, serde_json::json!([]));

    // Session settings: shown, changed, refused when wrong.
    let settings = run(&["org", "settings", "--target-org", "acme", "--json"])
        .ok()
        .json();
    assert_eq!(
        settings,
        serde_json::json!({"sessionTimeoutMinutes": 120, "enforceIpRangesEveryRequest": false})
    );
    let changed = run(&[
        "org",
        "settings",
        "--session-timeout",
        "30",
        "--enforce-ip-ranges-every-request",
        "true",
        "--target-org",
        "acme",
    ])
    .ok();
    assert!(
        changed.stdout.contains("30 minutes") && changed.stdout.contains("true"),
        "{}",
        changed.stdout
    );
    let wrong = run(&[
        "org",
        "settings",
        "--session-timeout",
        "45",
        "--target-org",
        "acme",
    ]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong.stderr.contains("not a session timeout"),
        "{}",
        wrong.stderr
    );
    let settings = run(&["org", "settings", "--target-org", "acme", "--json"])
        .ok()
        .json();
    assert_eq!(settings["sessionTimeoutMinutes"], 30, "{settings}");

    let log = server.terminate();
    for secret in [password, admin_password.as_str(), "Ops-Password-1"] {
        assert!(!log.contains(secret), "a password reached the log:\n{log}");
    }
}

/// Every file under `dir`, by path relative to it.
fn files_under(dir: &Path) -> std::collections::BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn app_new_deploy_retrieve_and_delete_app() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let password = "Cli-Deploy-Password-42";
    let server = serve(
        &tmp.path().join("data"),
        &[("ECA_ADMIN_PASSWORD", password)],
        &[],
    );
    login(&config, &server.url, password, "dev");
    let run = |args: &[&str]| eca(&config, args, "");
    let out_dir = tmp.path().to_str().unwrap().to_owned();
    run(&["project", "init", "proj", "--output-dir", &out_dir]).ok();
    let project = tmp.path().join("proj");
    let project_arg = project.to_str().unwrap().to_owned();
    run(&[
        "app",
        "new",
        "Demo_App",
        "--oauth",
        "--project-dir",
        &project_arg,
    ])
    .ok();
    let source = project.join("force-app/main/default");
    let deployed = files_under(&source);
    assert!(deployed.len() >= 3, "{deployed:?}");

    // Deploy, with the progress on standard error and the component table on standard output.
    let deploy = run(&[
        "deploy",
        "--source-dir",
        &project_arg,
        "--target-org",
        "dev",
    ])
    .ok();
    assert!(deploy.stdout.contains("Succeeded"), "{}", deploy.stdout);
    assert!(deploy.stdout.contains("Created"), "{}", deploy.stdout);
    assert!(deploy.stdout.contains("Demo_App"), "{}", deploy.stdout);
    assert!(deploy.stderr.contains("Status: "), "{}", deploy.stderr);

    // A check-only deploy in JSON changes nothing and says so.
    let check = run(&[
        "deploy",
        "--source-dir",
        &project_arg,
        "--check-only",
        "--target-org",
        "dev",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(check["success"], true, "{check}");
    assert_eq!(check["checkOnly"], true, "{check}");

    let list = run(&[
        "list",
        "metadata",
        "--type",
        "ExternalClientApplication",
        "--target-org",
        "dev",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(list[0]["fullName"], "Demo_App", "{list}");

    // One named component, overwritten in place.
    let one = run(&[
        "retrieve",
        "--metadata",
        "ExternalClientApplication:Demo_App",
        "--output-dir",
        &project_arg,
        "--target-org",
        "dev",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(
        one["files"],
        serde_json::json!(["force-app/main/default/externalClientApps/Demo_App.eca-meta.xml"]),
        "{one}"
    );

    // A project file whose name differs from the org's only in case is the same component:
    // the retrieve refuses, naming the file, rather than write a second one beside it.
    let header = source.join("externalClientApps/Demo_App.eca-meta.xml");
    let lower = source.join("externalClientApps/demo_app.eca-meta.xml");
    std::fs::rename(&header, &lower).unwrap();
    let refused = run(&[
        "retrieve",
        "--metadata",
        "ExternalClientApplication:Demo_App",
        "--output-dir",
        &project_arg,
        "--target-org",
        "dev",
    ]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("externalClientApps/demo_app.eca-meta.xml"),
        "{}",
        refused.stderr
    );
    assert!(!header.exists());
    std::fs::rename(&lower, &header).unwrap();

    // Retrieve everything back: the same files plus the generated fields and policies.
    let retrieve = run(&[
        "retrieve",
        "--output-dir",
        &project_arg,
        "--target-org",
        "dev",
        "--json",
    ])
    .ok()
    .json();
    assert!(
        retrieve["files"].as_array().is_some_and(|f| f.len() >= 5),
        "{retrieve}"
    );
    let retrieved = files_under(&source);
    for (path, text) in &deployed {
        let got = retrieved
            .get(path)
            .unwrap_or_else(|| panic!("{path} is gone"));
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            assert!(
                got.contains(line),
                "{path}: `{line}` is missing from\n{got}"
            );
        }
    }
    let all: String = retrieved.values().cloned().collect();
    for generated in [
        "<orgScopedExternalApp>",
        "<oauthLink>",
        "<consumerKey>3MVG",
        "_defaultPolicy",
    ] {
        assert!(
            all.contains(generated),
            "{generated} missing: {retrieved:#?}"
        );
    }
    assert!(!all.contains("consumerSecret"));
    assert!(
        retrieved
            .keys()
            .any(|k| k.contains("extlClntAppOauthPolicies")),
        "{retrieved:#?}"
    );

    // Deleting asks first; without a terminal it needs --no-prompt.
    let refused = run(&["delete", "app", "Demo_App", "--target-org", "dev"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("--no-prompt"), "{}", refused.stderr);
    let delete = run(&[
        "delete",
        "app",
        "Demo_App",
        "--no-prompt",
        "--target-org",
        "dev",
    ])
    .ok();
    assert!(delete.stdout.contains("Deleted"), "{}", delete.stdout);
    let list = run(&[
        "list",
        "metadata",
        "--type",
        "ExternalClientApplication",
        "--target-org",
        "dev",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(list, serde_json::json!([]));

    // A broken component fails the deploy with exit status 1 and a problem row.
    std::fs::write(
        source.join("externalClientApps/Demo_App.eca-meta.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExternalClientApplication xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n<label>x</label>\n</ExternalClientApplication>\n",
    )
    .unwrap();
    let failed = run(&[
        "deploy",
        "--source-dir",
        &project_arg,
        "--target-org",
        "dev",
    ]);
    assert_eq!(failed.code, 1, "{}\n{}", failed.stdout, failed.stderr);
    assert!(failed.stdout.contains("Error"), "{}", failed.stdout);
    drop(server);
}

#[test]
fn org_keys_list_and_rotate() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let password = "Cli-Keys-Password-42";
    let server = serve(
        &tmp.path().join("data"),
        &[("ECA_ADMIN_PASSWORD", password)],
        &[],
    );
    login(&config, &server.url, password, "local");
    let run = |args: &[&str]| eca(&config, args, "");

    let listed = run(&["org", "keys", "list", "--target-org", "local", "--json"])
        .ok()
        .json();
    assert_eq!(listed["keys"].as_array().unwrap().len(), 1);
    let first = listed["keys"][0]["sha256Fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();

    let rotated = run(&["org", "keys", "rotate", "--target-org", "local"]).ok();
    assert!(
        rotated.stdout.contains(
            "SAML signing key 2 now signs; the previous key stays in the IdP metadata for 30 days."
        ),
        "{}",
        rotated.stdout
    );
    assert!(rotated.stdout.contains("VERSION"), "{}", rotated.stdout);
    let listed = run(&["org", "keys", "list", "--target-org", "local", "--json"])
        .ok()
        .json();
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["version"], 2);
    assert_eq!(keys[0]["isCurrent"], true);
    assert_eq!(keys[1]["sha256Fingerprint"], first.as_str());
    assert_eq!(keys[1]["isPublished"], true);

    // The metadata publishes both.
    let metadata = ureq::get(&format!("{}/.well-known/samlidp.xml", server.url))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    assert_eq!(metadata.matches("<ds:X509Certificate>").count(), 2);
}

#[test]
fn org_oauth_keys_list_and_rotate() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let password = "Cli-Oauth-Keys-Password-42";
    let server = serve(
        &tmp.path().join("data"),
        &[("ECA_ADMIN_PASSWORD", password)],
        &[],
    );
    login(&config, &server.url, password, "local");
    let run = |args: &[&str]| eca(&config, args, "");
    let jwks_kids = || -> Vec<String> {
        let jwks: serde_json::Value = serde_json::from_str(
            &ureq::get(&format!("{}/id/keys", server.url))
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap(),
        )
        .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect()
    };

    let listed = run(&[
        "org",
        "oauth-keys",
        "list",
        "--target-org",
        "local",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(listed["keys"][0]["kid"], "1");
    assert_eq!(jwks_kids(), ["1"]);

    let rotated = run(&["org", "oauth-keys", "rotate", "--target-org", "local"]).ok();
    assert!(
        rotated.stdout.contains(
            "OAuth signing key 2 now signs; the previous key stays published at /id/keys for 48 hours."
        ),
        "{}",
        rotated.stdout
    );
    assert!(rotated.stdout.contains("KID"), "{}", rotated.stdout);
    let listed = run(&[
        "org",
        "oauth-keys",
        "list",
        "--target-org",
        "local",
        "--json",
    ])
    .ok()
    .json();
    let keys = listed["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], "2");
    assert_eq!(keys[0]["isCurrent"], true);
    assert_eq!(keys[1]["isPublished"], true);
    assert_eq!(jwks_kids(), ["1", "2"]);
}

#[path = "server/sigkill.rs"]
mod sigkill;
#[path = "server/start_stop.rs"]
mod start_stop;

/// `POST /services/oauth2/token` with client credentials; the access token, or the status.
fn client_credentials(url: &str, key: &str, secret: &str) -> Result<String, u16> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("{url}/services/oauth2/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!(
            "grant_type=client_credentials&client_id={key}&client_secret={secret}"
        ))
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    if status == 200 {
        Ok(body["access_token"].as_str().unwrap().to_owned())
    } else {
        Err(status)
    }
}

/// `GET /services/oauth2/userinfo`: its status.
fn userinfo_status(url: &str, token: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .get(&format!("{url}/services/oauth2/userinfo"))
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn usage_revocation_and_credential_rotation_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let password = "Cli-Connect-Password-42";
    let server = serve(
        &tmp.path().join("data"),
        &[("ECA_ADMIN_PASSWORD", password)],
        &["--demo"],
    );
    let (key, secret) = server
        .stdout
        .iter()
        .find_map(|l| {
            let rest = l.strip_prefix("deployed the sample app Demo_App: consumer key ")?;
            let (key, rest) = rest.split_once(" and consumer secret ")?;
            Some((key.to_owned(), rest.split(' ').next()?.to_owned()))
        })
        .unwrap_or_else(|| panic!("no credentials in {:?}", server.stdout));
    login(&config, &server.url, password, "dev");
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--target-org", "dev"]);
        eca(&config, &all, "")
    };

    // A client-credentials token for the integration user shows in usage.
    let token = client_credentials(&server.url, &key, &secret).unwrap();
    let apps = run(&["usage", "list", "--json"]).ok().json();
    assert_eq!(apps[0]["developerName"], "Demo_App", "{apps}");
    assert!(apps[0]["identifier"].as_str().unwrap().starts_with("0xI"));
    let table = run(&["usage", "list"]).ok().stdout;
    assert!(
        table.contains("APP") && table.contains("Demo_App"),
        "{table}"
    );
    let users = run(&["usage", "users", "Demo_App", "--json"]).ok().json();
    assert_eq!(users[0]["username"], "integration@demo.example", "{users}");
    assert_eq!(users[0]["useCount"], 1);
    let table = run(&["usage", "users", "Demo_App"]).ok().stdout;
    assert!(table.contains("integration@demo.example"), "{table}");
    let tokens = run(&[
        "usage",
        "tokens",
        "Demo_App",
        "integration@demo.example",
        "--json",
    ])
    .ok()
    .json();
    assert_eq!(tokens, serde_json::json!([]));

    // Revoke needs exactly one of --user, --token, --all.
    assert_eq!(run(&["usage", "revoke", "Demo_App"]).code, 2);
    assert_eq!(
        run(&["usage", "revoke", "Demo_App", "--all", "--user", "x"]).code,
        2
    );
    assert_eq!(userinfo_status(&server.url, &token), 200);
    let out = run(&[
        "usage",
        "revoke",
        "Demo_App",
        "--user",
        "integration@demo.example",
    ])
    .ok()
    .stdout;
    assert!(out.contains("Revoked every token"), "{out}");
    assert_eq!(userinfo_status(&server.url, &token), 401);
    let again = client_credentials(&server.url, &key, &secret).unwrap();
    run(&["usage", "revoke", "Demo_App", "--all", "--json"]).ok();
    assert_eq!(userinfo_status(&server.url, &again), 401);
    let missing = run(&["usage", "users", "No_Such_App"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("NOT_FOUND"), "{}", missing.stderr);

    // Credentials: keys for developers; secrets, and staged credentials, need the org setting.
    let keys_only = run(&["creds", "show", "Demo_App", "--json"]).ok();
    let shown = keys_only.json();
    assert_eq!(shown[0]["key"], key.as_str(), "{shown}");
    assert!(shown[0].get("secret").is_none());
    assert_eq!(shown[0]["staged"], serde_json::json!([]), "{shown}");
    assert!(
        keys_only
            .stderr
            .contains("staged credentials are not listed"),
        "{}",
        keys_only.stderr
    );
    let refused = run(&["creds", "stage", "Demo_App"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("enableClientSecretInRestApiAccess"),
        "{}",
        refused.stderr
    );
    let refused = run(&["creds", "show", "Demo_App", "--secret"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("enableClientSecretInRestApiAccess"),
        "{}",
        refused.stderr
    );
    let out_dir = tmp.path().to_str().unwrap().to_owned();
    eca(
        &config,
        &["project", "init", "proj", "--output-dir", &out_dir],
        "",
    )
    .ok();
    let project = tmp.path().join("proj");
    let settings = project.join("force-app/main/default/settings");
    std::fs::create_dir_all(&settings).unwrap();
    std::fs::write(
        settings.join("ExternalClientApp.settings-meta.xml"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ExternalClientAppSettings xmlns=\"http://soap.sforce.com/2006/04/metadata\">\n    <enableClientSecretInRestApiAccess>true</enableClientSecretInRestApiAccess>\n</ExternalClientAppSettings>\n",
    )
    .unwrap();
    run(&["deploy", "--source-dir", project.to_str().unwrap()]).ok();
    let shown = run(&["creds", "show", "Demo_App", "--secret", "--json"])
        .ok()
        .json();
    assert_eq!(shown[0]["secret"], secret.as_str(), "{shown}");

    // Stage, use both, rotate, delete the old pair.
    let staged = run(&["creds", "stage", "Demo_App", "--json"]).ok().json();
    let key2 = staged["key"].as_str().unwrap().to_owned();
    let secret2 = staged["secret"].as_str().unwrap().to_owned();
    assert_eq!(staged["state"], "Active");
    assert!(client_credentials(&server.url, &key2, &secret2).is_ok());
    assert!(client_credentials(&server.url, &key, &secret).is_ok());
    let second = run(&["creds", "stage", "Demo_App"]);
    assert_eq!(second.code, 1);
    assert!(
        second.stderr.contains("DUPLICATE_VALUE"),
        "{}",
        second.stderr
    );
    // Secrets are printed only when asked for, in JSON too.
    let listed = run(&["creds", "show", "Demo_App", "--json"]).ok().json();
    assert_eq!(listed[0]["staged"][0]["key"], key2.as_str(), "{listed}");
    assert!(listed[0]["staged"][0].get("secret").is_none(), "{listed}");
    let rotated = run(&["creds", "rotate", "Demo_App", "--json"]).ok().json();
    assert_eq!(rotated["state"], "Rotated", "{rotated}");
    assert_eq!(rotated["key"], key.as_str());
    assert!(rotated.get("secret").is_none(), "{rotated}");
    let table = run(&["creds", "show", "Demo_App"]).ok().stdout;
    assert!(
        table.contains("Rotated") && table.contains(&key2),
        "{table}"
    );
    assert!(client_credentials(&server.url, &key, &secret).is_ok());
    let out = run(&["creds", "delete-staged", "Demo_App"]).ok().stdout;
    assert!(out.contains("no longer authenticates"), "{out}");
    assert_eq!(client_credentials(&server.url, &key, &secret), Err(400));
    assert!(client_credentials(&server.url, &key2, &secret2).is_ok());
    let nothing = run(&["creds", "rotate", "Demo_App"]);
    assert_eq!(nothing.code, 1);
    assert!(
        nothing.stderr.contains("eca creds stage"),
        "{}",
        nothing.stderr
    );
}
