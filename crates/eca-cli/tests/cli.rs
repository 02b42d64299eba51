//! The `eca` binary, run as a user runs it, in temporary folders. One test binary for the crate
//! (`STYLE.md` §10); each test builds its own project.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

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

    #[track_caller]
    fn fails(self, code: i32, message: &str) -> Self {
        assert_eq!(
            self.code, code,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.lines().any(|l| l.starts_with("error: ")) && self.stderr.contains(message),
            "expected `error: …{message}…`, got:\n{}",
            self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

fn eca(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_eca"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the eca binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// `eca project init demo` in `dir`; returns the project folder.
fn init(dir: &Path) -> PathBuf {
    eca(dir, &["project", "init", "demo"]).ok();
    dir.join("demo")
}

/// `eca validate --json` passes with no errors and no warnings.
#[track_caller]
fn assert_clean(dir: &Path, path: &str) {
    let run = eca(dir, &["validate", path, "--json"]).ok();
    assert_eq!(run.json(), serde_json::json!([]), "{}", run.stdout);
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const DEFAULT: &str = "force-app/main/default";

/// Where `eca app new` puts an app's file of the given suffix, named as the Setup UI names it.
fn file_of(app: &str, suffix: &str) -> String {
    let (dir, name) = match suffix {
        "eca" => ("externalClientApps", app.to_owned()),
        "ecaOauth" => ("extlClntAppOauthSettings", format!("{app}_oauth")),
        "ecaGlblOauth" => ("extlClntAppGlobalOauthSets", format!("{app}_glbloauth")),
        "ecaOauthPlcy" => (
            "extlClntAppOauthPolicies",
            format!("{app}_oauth_defaultPolicy"),
        ),
        "ecaPlcy" => ("extlClntAppPolicies", format!("{app}_defaultPolicy")),
        "ecaSamlPlcy" => (
            "extlClntAppSamlConfigurablePolicies",
            format!("{app}_samlPlcy"),
        ),
        other => panic!("no such suffix {other}"),
    };
    format!("{dir}/{name}.{suffix}-meta.xml")
}

#[test]
fn init_then_validate_is_ok() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    for f in [
        "sfdx-project.json",
        ".forceignore",
        "README.md",
        ".gitignore",
    ] {
        assert!(project.join(f).is_file(), "{f}");
    }
    assert!(project.join(DEFAULT).is_dir());
    let sfdx: Value = serde_json::from_str(&read(project.join("sfdx-project.json"))).unwrap();
    assert_eq!(sfdx["sourceApiVersion"], "66.0");
    assert_eq!(sfdx["packageDirectories"][0]["path"], "force-app");

    let run = eca(&project, &["validate"]).ok();
    assert_eq!(run.stdout, "ok: 0 files checked, no problems\n");
    assert_clean(tmp.path(), "demo");

    // A second init does not overwrite the project.
    eca(tmp.path(), &["project", "init", "demo"]).fails(1, "already exists");
    eca(tmp.path(), &["project", "init", "a/b"]).fails(1, "cannot be a project name");
}

#[test]
fn app_new_writes_clean_apps_of_every_kind() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    let pem = tmp.path().join("given.crt");
    eca(
        tmp.path(),
        &["cert", "new", "--common-name", "given", "--name", "given"],
    )
    .ok();

    // (arguments, files under force-app/main/default, expected fragments per file suffix)
    type Case<'a> = (&'a [&'a str], &'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: &[Case<'_>] = &[
        (
            &["Web_App", "--oauth"],
            &[
                "externalClientApps/Web_App.eca-meta.xml",
                "extlClntAppOauthSettings/Web_App_oauth.ecaOauth-meta.xml",
                "extlClntAppGlobalOauthSets/Web_App_glbloauth.ecaGlblOauth-meta.xml",
                "extlClntAppOauthPolicies/Web_App_oauth_defaultPolicy.ecaOauthPlcy-meta.xml",
                "extlClntAppPolicies/Web_App_defaultPolicy.ecaPlcy-meta.xml",
            ],
            &[
                (
                    "ecaOauth",
                    "<commaSeparatedOauthScopes>Api, RefreshToken, OpenID</commaSeparatedOauthScopes>",
                ),
                ("ecaGlblOauth", "<isPkceRequired>true</isPkceRequired>"),
                (
                    "ecaGlblOauth",
                    "<callbackUrl>http://localhost:1717/OauthRedirect</callbackUrl>",
                ),
                (
                    "ecaOauthPlcy",
                    "<permittedUsersPolicyType>AllSelfAuthorized</permittedUsersPolicyType>",
                ),
            ],
        ),
        (
            &[
                "Cc_App",
                "--flows",
                "client-credentials",
                "--run-as",
                "integration@example.com",
                "--scopes",
                "Api",
                "--callback",
                "https://a.example.com/cb",
                "--callback",
                "https://b.example.com/cb",
            ],
            &["extlClntAppOauthPolicies/Cc_App_oauth_defaultPolicy.ecaOauthPlcy-meta.xml"],
            &[
                (
                    "ecaOauth",
                    "<commaSeparatedOauthScopes>Api</commaSeparatedOauthScopes>",
                ),
                (
                    "ecaGlblOauth",
                    "<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>",
                ),
                ("ecaGlblOauth", "<isPkceRequired>false</isPkceRequired>"),
                (
                    "ecaGlblOauth",
                    "<callbackUrl>https://a.example.com/cb\nhttps://b.example.com/cb</callbackUrl>",
                ),
                (
                    "ecaOauthPlcy",
                    "<clientCredentialsFlowUser>integration@example.com</clientCredentialsFlowUser>",
                ),
                (
                    "ecaOauthPlcy",
                    "<isClientCredentialsFlowEnabled>true</isClientCredentialsFlowEnabled>",
                ),
            ],
        ),
        (
            &["Device_App", "--flows", "device"],
            &["extlClntAppGlobalOauthSets/Device_App_glbloauth.ecaGlblOauth-meta.xml"],
            &[
                (
                    "ecaGlblOauth",
                    "<isDeviceFlowEnabled>true</isDeviceFlowEnabled>",
                ),
                (
                    "ecaOauth",
                    "<commaSeparatedOauthScopes>Api, RefreshToken</commaSeparatedOauthScopes>",
                ),
            ],
        ),
        (
            &["Jwt_App", "--flows", "jwt-bearer"],
            &["extlClntAppGlobalOauthSets/Jwt_App_glbloauth.ecaGlblOauth-meta.xml"],
            &[
                ("ecaGlblOauth", "<certificate>MII"),
                (
                    "ecaOauthPlcy",
                    "<permittedUsersPolicyType>AdminApprovedPreAuthorized</permittedUsersPolicyType>",
                ),
                (
                    "ecaOauthPlcy",
                    "<commaSeparatedProfile>System Administrator</commaSeparatedProfile>",
                ),
            ],
        ),
        (
            &[
                "Given_Cert",
                "--flows",
                "jwt-bearer,web",
                "--certificate",
                pem.to_str().unwrap(),
            ],
            &["extlClntAppGlobalOauthSets/Given_Cert_glbloauth.ecaGlblOauth-meta.xml"],
            &[("ecaGlblOauth", "<certificate>MII")],
        ),
        (
            &[
                "Saml_App",
                "--saml",
                "--acs-url",
                "https://sp.example.com/acs",
                "--entity-id",
                "https://sp.example.com",
                "--label",
                "SAML & Co",
            ],
            &[
                "externalClientApps/Saml_App.eca-meta.xml",
                "extlClntAppPolicies/Saml_App_defaultPolicy.ecaPlcy-meta.xml",
                "extlClntAppSamlConfigurablePolicies/Saml_App_samlPlcy.ecaSamlPlcy-meta.xml",
            ],
            &[
                ("eca", "<label>SAML &amp; Co</label>"),
                (
                    "ecaPlcy",
                    "<isOauthPluginEnabled>false</isOauthPluginEnabled>",
                ),
                ("ecaPlcy", "<isSamlPluginEnabled>true</isSamlPluginEnabled>"),
                (
                    "ecaSamlPlcy",
                    "<entityUrl>https://sp.example.com</entityUrl>",
                ),
                (
                    "ecaSamlPlcy",
                    "<signingAlgorithmType>SHA256</signingAlgorithmType>",
                ),
            ],
        ),
    ];
    for (args, files, fragments) in cases {
        let name = args[0];
        let mut full = vec!["app", "new"];
        full.extend_from_slice(args);
        let run = eca(&project, &full).ok();
        assert!(
            run.stdout
                .contains(&format!("created External Client App {name}")),
            "{}",
            run.stdout
        );
        for f in *files {
            assert!(project.join(DEFAULT).join(f).is_file(), "{name}: {f}");
        }
        for (suffix, fragment) in *fragments {
            let file = project.join(DEFAULT).join(file_of(name, suffix));
            let text = read(&file);
            assert!(
                text.contains(fragment),
                "{name}: {} lacks {fragment}:\n{text}",
                file.display()
            );
        }
        assert_clean(&project, ".");
    }

    // The plain web app, whole: canonical form, Salesforce's names and the §5.2 defaults.
    assert_eq!(
        read(
            project
                .join(DEFAULT)
                .join("extlClntAppOauthPolicies/Web_App_oauth_defaultPolicy.ecaOauthPlcy-meta.xml")
        ),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ExtlClntAppOauthConfigurablePolicies xmlns="http://soap.sforce.com/2006/04/metadata">
    <externalClientApplication>Web_App</externalClientApplication>
    <ipRelaxationPolicyType>Enforce</ipRelaxationPolicyType>
    <isClientCredentialsFlowEnabled>false</isClientCredentialsFlowEnabled>
    <isGuestCodeCredFlowEnabled>false</isGuestCodeCredFlowEnabled>
    <isTokenExchangeFlowEnabled>false</isTokenExchangeFlowEnabled>
    <label>Web_App_oauth_defaultPolicy</label>
    <permittedUsersPolicyType>AllSelfAuthorized</permittedUsersPolicyType>
    <refreshTokenPolicyType>SpecificLifetime</refreshTokenPolicyType>
    <refreshTokenValidityPeriod>365</refreshTokenValidityPeriod>
    <refreshTokenValidityUnit>Days</refreshTokenValidityUnit>
    <requiredSessionLevel>STANDARD</requiredSessionLevel>
</ExtlClntAppOauthConfigurablePolicies>
"#
    );
    assert_eq!(
        read(
            project
                .join(DEFAULT)
                .join("externalClientApps/Web_App.eca-meta.xml")
        ),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ExternalClientApplication xmlns="http://soap.sforce.com/2006/04/metadata">
    <contactEmail>admin@example.com</contactEmail>
    <description>Web_App External Client App</description>
    <distributionState>Local</distributionState>
    <isProtected>false</isProtected>
    <label>Web_App</label>
</ExternalClientApplication>
"#
    );

    // The generated JWT key pair, private key readable by its owner only.
    let key = project.join("certs/Jwt_App.key");
    assert!(read(&key).starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(read(project.join("certs/Jwt_App.crt")).starts_with("-----BEGIN CERTIFICATE-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn app_new_packaged_keeps_unpackageable_files_out_of_the_package() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    // A package directory that builds a 2GP package: the validator refuses unpackageable types there.
    std::fs::write(
        project.join("sfdx-project.json"),
        "{\n  \"packageDirectories\": [\n    {\n      \"path\": \"force-app\",\n      \"default\": true,\n      \"package\": \"Demo\"\n    }\n  ],\n  \"namespace\": \"\",\n  \"sourceApiVersion\": \"66.0\"\n}\n",
    )
    .unwrap();
    let run = eca(
        &project,
        &["app", "new", "Pkg_App", "--packaged", "--oauth", "--json"],
    )
    .ok();
    let out = run.json();
    assert_eq!(out["app"], "Pkg_App");
    assert_eq!(out["diagnostics"], serde_json::json!([]));
    assert_eq!(out["files"].as_array().unwrap().len(), 5, "{out}");
    assert!(out["notes"].to_string().contains("unpackaged"), "{out}");

    let package = project.join(DEFAULT);
    let unpackaged = project.join("unpackaged/main/default");
    assert!(
        read(package.join("externalClientApps/Pkg_App.eca-meta.xml"))
            .contains("<distributionState>Packaged</distributionState>")
    );
    assert!(
        package
            .join("extlClntAppOauthSettings/Pkg_App_oauth.ecaOauth-meta.xml")
            .is_file()
    );
    for f in [
        "extlClntAppGlobalOauthSets/Pkg_App_glbloauth.ecaGlblOauth-meta.xml",
        "extlClntAppOauthPolicies/Pkg_App_oauth_defaultPolicy.ecaOauthPlcy-meta.xml",
        "extlClntAppPolicies/Pkg_App_defaultPolicy.ecaPlcy-meta.xml",
    ] {
        assert!(unpackaged.join(f).is_file(), "{f}");
        assert!(!package.join(f).exists(), "{f}");
    }
    let sfdx: Value = serde_json::from_str(&read(project.join("sfdx-project.json"))).unwrap();
    assert_eq!(sfdx["packageDirectories"][1]["path"], "unpackaged");
    assert_clean(&project, ".");

    // A second packaged app reuses the directory without adding it again.
    eca(
        &project,
        &["app", "new", "Pkg_Two", "--packaged", "--oauth"],
    )
    .ok();
    let sfdx: Value = serde_json::from_str(&read(project.join("sfdx-project.json"))).unwrap();
    assert_eq!(sfdx["packageDirectories"].as_array().unwrap().len(), 2);
    assert_clean(&project, ".");
}

#[test]
fn app_new_refuses_bad_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    let cases: &[(&[&str], &str)] = &[
        (&["1App"], "not a valid API name"),
        (&["My__App"], "not a valid API name"),
        (&["My_App_"], "not a valid API name"),
        (&["My-App"], "not a valid API name"),
        (&["Cc", "--flows", "client-credentials"], "--run-as"),
        (
            &["Cc", "--flows", "client-credentials", "--run-as", "admin"],
            "not a Salesforce username",
        ),
        (
            &[
                "S",
                "--saml",
                "--acs-url",
                "https://a.example.com",
                "--entity-id",
                "x",
                "--packaged",
            ],
            "SAML apps cannot be packaged",
        ),
        (&["S", "--saml"], "--acs-url"),
        (
            &["Bad_Scope", "--scopes", "Api,api_full"],
            "would not validate",
        ),
        (
            &["Bad_Url", "--callback", "localhost/cb"],
            "would not validate",
        ),
    ];
    for (args, message) in cases {
        let mut full = vec!["app", "new"];
        full.extend_from_slice(args);
        eca(&project, &full).fails(1, message);
    }
    // Nothing was written by the refused commands.
    assert_eq!(std::fs::read_dir(project.join(DEFAULT)).unwrap().count(), 0);

    eca(&project, &["app", "new", "Twice", "--oauth"]).ok();
    let header = project
        .join(DEFAULT)
        .join("externalClientApps/Twice.eca-meta.xml");
    std::fs::write(
        &header,
        read(&header).replace("admin@example.com", "me@example.com"),
    )
    .unwrap();
    eca(&project, &["app", "new", "Twice", "--oauth"]).fails(1, "not overwriting existing files");
    assert!(read(&header).contains("me@example.com"));
    eca(&project, &["app", "new", "Twice", "--oauth", "--force"]).ok();
    assert!(read(&header).contains("admin@example.com"));

    // Not a project at all: exit 2.
    eca(tmp.path(), &["app", "new", "X", "--project-dir", "nowhere"]).fails(2, "nowhere");
}

#[test]
fn validate_reports_problems_with_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = eca(tmp.path(), &["validate", "missing", "--json"]).fails(2, "missing");
    assert_eq!(missing.stdout, "");

    let project = init(tmp.path());
    eca(&project, &["app", "new", "Broken", "--oauth"]).ok();
    let policy = project
        .join(DEFAULT)
        .join("extlClntAppOauthPolicies/Broken_oauth_defaultPolicy.ecaOauthPlcy-meta.xml");
    std::fs::write(
        &policy,
        read(&policy).replace(">AllSelfAuthorized<", ">AdminApproved<"),
    )
    .unwrap();

    let run = eca(&project, &["validate", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let diagnostics = run.json();
    let errors: Vec<&Value> = diagnostics
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), 1, "{diagnostics}");
    let d = errors[0];
    assert_eq!(
        d["file"],
        "force-app/main/default/extlClntAppOauthPolicies/Broken_oauth_defaultPolicy.ecaOauthPlcy-meta.xml"
    );
    assert_eq!(d["line"], 9);
    assert!(d["column"].as_u64().unwrap() > 1);
    assert!(d["code"].as_str().unwrap().starts_with("ECA"));
    assert!(d["message"].as_str().unwrap().contains("AdminApproved"));
    assert!(d.get("help").is_some());

    let human = eca(tmp.path(), &["validate", "demo"]);
    assert_eq!(human.code, 1);
    assert!(human.stdout.contains("error[ECA"), "{}", human.stdout);
    assert!(human.stdout.contains("--> demo/force-app/main/default/extlClntAppOauthPolicies/Broken_oauth_defaultPolicy.ecaOauthPlcy-meta.xml:9:"), "{}", human.stdout);
    assert!(
        human
            .stdout
            .trim_end()
            .ends_with("1 error in 5 files checked"),
        "{}",
        human.stdout
    );
}

#[test]
fn convert_round_trips_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    eca(
        &project,
        &["app", "new", "Round_Trip", "--flows", "web,device"],
    )
    .ok();
    eca(
        &project,
        &[
            "app",
            "new",
            "Sso",
            "--saml",
            "--acs-url",
            "https://sp.example.com/acs",
            "--entity-id",
            "sp",
        ],
    )
    .ok();

    let run = eca(
        &project,
        &["project", "convert", "source", "--output-dir", "../mdapi"],
    )
    .ok();
    assert!(
        run.stdout.starts_with("converted 8 components to ../mdapi"),
        "{}",
        run.stdout
    );
    let mdapi = tmp.path().join("mdapi");
    assert!(mdapi.join("package.xml").is_file());
    assert!(mdapi.join("externalClientApps/Round_Trip.eca").is_file());
    assert_clean(tmp.path(), "mdapi");

    eca(
        &project,
        &[
            "project",
            "convert",
            "source",
            "--output-zip",
            "../deploy.zip",
        ],
    )
    .ok();
    assert_clean(tmp.path(), "deploy.zip");

    // A non-empty output folder would mix old files into the deploy.
    eca(
        &project,
        &["project", "convert", "source", "--output-dir", "../mdapi"],
    )
    .fails(1, "not empty");

    for from in ["mdapi", "deploy.zip"] {
        let back = tmp.path().join(format!("back-{from}"));
        eca(
            tmp.path(),
            &[
                "project",
                "convert",
                "mdapi",
                "--root-dir",
                from,
                "--output-dir",
                back.to_str().unwrap(),
            ],
        )
        .ok();
        assert_clean(&back, ".");
        let mut compared = 0;
        for dir in std::fs::read_dir(project.join(DEFAULT)).unwrap() {
            for file in std::fs::read_dir(dir.unwrap().path()).unwrap() {
                let file = file.unwrap().path();
                let rel = file.strip_prefix(&project).unwrap();
                assert_eq!(
                    std::fs::read(&file).unwrap(),
                    std::fs::read(back.join(rel)).unwrap(),
                    "{}",
                    rel.display()
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 8);
    }
}

/// Review found that `eca app new Shop` succeeded beside `shop.eca-meta.xml`, and
/// `eca validate` then failed with ECA0016: component names are compared without regard to
/// case, here as in the validator.
#[test]
fn app_new_refuses_a_name_that_differs_only_in_case() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    eca(&project, &["app", "new", "shop", "--oauth"]).ok();
    let headers = project.join(DEFAULT).join("externalClientApps");
    for force in [false, true] {
        let mut args = vec!["app", "new", "Shop", "--oauth"];
        if force {
            args.push("--force");
        }
        eca(&project, &args).fails(1, "externalClientApps/shop.eca-meta.xml");
        assert!(!headers.join("Shop.eca-meta.xml").exists());
    }
    assert_clean(&project, ".");
}

/// A package directory at the project root (`"path": "."`): an app's own files, written
/// again with --force, are not taken for another component's.
#[test]
fn app_new_in_a_project_rooted_package_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    std::fs::write(
        project.join("sfdx-project.json"),
        "{\"packageDirectories\": [{\"path\": \".\", \"default\": true}]}\n",
    )
    .unwrap();
    eca(&project, &["app", "new", "Root", "--oauth"]).ok();
    assert!(
        project
            .join("externalClientApps/Root.eca-meta.xml")
            .exists()
    );
    eca(&project, &["app", "new", "Root", "--oauth", "--force"]).ok();
}

/// `eca project convert mdapi` of the Metadata API folder `../mdapi` back into the project.
const CONVERT_BACK: &[&str] = &[
    "project",
    "convert",
    "mdapi",
    "--root-dir",
    "../mdapi",
    "--output-dir",
    ".",
];

/// Review found that `eca app new` and `eca project convert mdapi` wrote into a default
/// package directory outside the project (`../outside`, or a folder reached through a
/// symbolic link); both now refuse, naming sfdx-project.json, and write nothing.
#[test]
fn writers_refuse_package_directories_outside_the_project() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    eca(&project, &["app", "new", "Shop"]).ok();
    eca(
        &project,
        &["project", "convert", "source", "--output-dir", "../mdapi"],
    )
    .ok();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&elsewhere, project.join("linked")).unwrap();
    let mut outside = vec!["../outside", "/tmp/eca-outside-test"];
    if cfg!(unix) {
        outside.push("linked");
    }
    for dir in outside {
        std::fs::write(
            project.join("sfdx-project.json"),
            format!(
                "{{\"packageDirectories\": [{{\"path\": \"force-app\"}}, {{\"path\": \"{dir}\", \"default\": true}}]}}\n"
            ),
        )
        .unwrap();
        eca(&project, &["app", "new", "Other"]).fails(1, "sfdx-project.json");
        eca(&project, CONVERT_BACK).fails(1, "sfdx-project.json");
        let run = eca(&project, &["validate"]);
        assert_eq!(run.code, 1, "{dir}: {}", run.stdout);
        assert!(run.stdout.contains("outside the project"), "{}", run.stdout);
        assert!(!tmp.path().join("outside").exists(), "{dir}");
        assert!(!Path::new("/tmp/eca-outside-test").exists(), "{dir}");
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0, "{dir}");
    }
    // Other problems of sfdx-project.json do not stop the writers: a package directory not
    // created yet (git keeps no empty folders), an old sourceApiVersion.
    std::fs::write(
        project.join("sfdx-project.json"),
        "{\"packageDirectories\": [{\"path\": \"force-app\", \"default\": true}, {\"path\": \"unpackaged\"}], \"sourceApiVersion\": \"58.0\"}\n",
    )
    .unwrap();
    eca(&project, &["app", "new", "Later"]).ok();
    assert!(
        project
            .join(DEFAULT)
            .join("externalClientApps/Later.eca-meta.xml")
            .exists()
    );
    // But JSON that does not parse leaves the package directories unknown: refused.
    std::fs::write(
        project.join("sfdx-project.json"),
        "{\"packageDirectories\": [{\"path\": \"src\", \"default\": true},]}\n",
    )
    .unwrap();
    eca(&project, &["app", "new", "Broken"]).fails(1, "not valid JSON");

    // A folder inside the package directory that links out of the project.
    #[cfg(unix)]
    {
        std::fs::write(
            project.join("sfdx-project.json"),
            "{\"packageDirectories\": [{\"path\": \"force-app\", \"default\": true}]}\n",
        )
        .unwrap();
        let headers = project.join(DEFAULT).join("externalClientApps");
        let moved = tmp.path().join("headers");
        std::fs::rename(&headers, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &headers).unwrap();
        eca(&project, &["app", "new", "Other"]).fails(1, "symbolic link");
        std::fs::remove_file(moved.join("Shop.eca-meta.xml")).unwrap();
        std::fs::remove_file(moved.join("Later.eca-meta.xml")).unwrap();
        eca(&project, CONVERT_BACK).fails(1, "symbolic link");
        assert_eq!(std::fs::read_dir(&moved).unwrap().count(), 0);
    }
}

#[test]
fn manifest_lists_every_component() {
    let tmp = tempfile::tempdir().unwrap();
    let project = init(tmp.path());
    eca(&project, &["app", "new", "Listed", "--oauth"]).ok();
    let run = eca(&project, &["manifest"]).ok();
    assert_eq!(
        run.stdout,
        "wrote manifest/package.xml (5 components, API 66.0)\n"
    );
    assert_eq!(
        read(project.join("manifest/package.xml")),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Package xmlns="http://soap.sforce.com/2006/04/metadata">
    <types>
        <members>Listed</members>
        <name>ExternalClientApplication</name>
    </types>
    <types>
        <members>Listed_defaultPolicy</members>
        <name>ExtlClntAppConfigurablePolicies</name>
    </types>
    <types>
        <members>Listed_glbloauth</members>
        <name>ExtlClntAppGlobalOauthSettings</name>
    </types>
    <types>
        <members>Listed_oauth_defaultPolicy</members>
        <name>ExtlClntAppOauthConfigurablePolicies</name>
    </types>
    <types>
        <members>Listed_oauth</members>
        <name>ExtlClntAppOauthSettings</name>
    </types>
    <version>66.0</version>
</Package>
"#
    );
    let run = eca(
        tmp.path(),
        &[
            "manifest",
            "--project-dir",
            "demo",
            "--output",
            "out/p.xml",
            "--json",
        ],
    )
    .ok();
    assert_eq!(run.json()["manifest"], "out/p.xml");
    assert!(tmp.path().join("out/p.xml").is_file());
}

#[test]
fn cert_new_writes_a_key_and_a_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let run = eca(
        tmp.path(),
        &[
            "cert",
            "new",
            "--common-name",
            "CI Bot",
            "--days",
            "90",
            "--output-dir",
            "certs",
            "--json",
        ],
    )
    .ok();
    let out = run.json();
    assert_eq!(out["key"], "certs/CI_Bot.key");
    assert_eq!(out["certificate"], "certs/CI_Bot.crt");
    let pem = read(tmp.path().join("certs/CI_Bot.crt"));
    let info = eca_metadata::validate::parse_certificate(&pem).unwrap();
    assert!(info.subject.contains("CI Bot"), "{}", info.subject);
    let days = (info.not_after - info.not_before) / 86_400;
    assert!((90..=91).contains(&days), "{days}");
    assert!(read(tmp.path().join("certs/CI_Bot.key")).starts_with("-----BEGIN PRIVATE KEY-----"));

    eca(
        tmp.path(),
        &[
            "cert",
            "new",
            "--common-name",
            "CI Bot",
            "--output-dir",
            "certs",
        ],
    )
    .fails(1, "already exist");
}

/// An alias a login cannot be saved under is refused before anything is sent: logging in first
/// would leave a live session on the server that nothing holds.
#[test]
fn login_refuses_a_bad_alias_before_logging_in() {
    let tmp = tempfile::tempdir().unwrap();
    let run = eca(
        tmp.path(),
        &[
            "login",
            "--instance-url",
            "http://127.0.0.1:9",
            "--username",
            "ops@example.com",
            "--alias",
            "my org",
            "--password-stdin",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("cannot name a login"), "{}", run.stderr);
}
