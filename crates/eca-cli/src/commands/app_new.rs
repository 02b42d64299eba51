//! `eca app new NAME`: the metadata files of a new External Client App, written into the
//! project's default package directory in canonical form. The files are checked with the
//! validator before anything is written, and the project is validated again afterwards.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use eca_metadata::diagnostic::{Diagnostic, display_path, render_human};
use eca_metadata::project::{self, Layout, Project, sfdx};
use eca_metadata::validate;
use serde::Serialize;

use crate::app_files::{self, App, DEFAULT_CALLBACK, DEFAULT_CONTACT_EMAIL, Flow, Oauth, Saml};
use crate::{Context, cert, output, sfdx_edit};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The app's API name: letters, digits and single underscores, starting with a letter.
    name: String,
    /// Add the OAuth plugin (implied by --flows, --scopes, --callback, --run-as and
    /// --certificate).
    #[arg(long)]
    oauth: bool,
    /// OAuth flows to enable [default: web].
    #[arg(long, value_enum, value_delimiter = ',')]
    flows: Vec<Flow>,
    /// OAuth scopes as metadata tokens [default: Api,RefreshToken, plus OpenID for web].
    #[arg(long, value_delimiter = ',')]
    scopes: Vec<String>,
    /// A callback URL; repeat for several [default: http://localhost:1717/OauthRedirect].
    #[arg(long = "callback", value_name = "URL")]
    callbacks: Vec<String>,
    /// The username the client credentials flow runs as (required with that flow).
    #[arg(long, value_name = "USERNAME")]
    run_as: Option<String>,
    /// The PEM certificate for the JWT bearer flow; without it one is generated into certs/.
    #[arg(long, value_name = "FILE")]
    certificate: Option<PathBuf>,
    /// Add the SAML plugin (needs --acs-url and --entity-id; SAML apps stay Local).
    #[arg(long)]
    saml: bool,
    /// The service provider's assertion consumer service URL.
    #[arg(long, value_name = "URL")]
    acs_url: Option<String>,
    /// The service provider's entity ID.
    #[arg(long, value_name = "ID")]
    entity_id: Option<String>,
    /// Make a Packaged app for a 2GP package: only the header and OAuth settings go into the
    /// package directory; global settings and policies go to `unpackaged/`.
    #[arg(long)]
    packaged: bool,
    /// The admin contact.
    #[arg(long, value_name = "EMAIL", default_value = DEFAULT_CONTACT_EMAIL)]
    contact_email: String,
    /// The display name [default: NAME].
    #[arg(long)]
    label: Option<String>,
    /// The description [default: "LABEL External Client App"].
    #[arg(long)]
    description: Option<String>,
    /// The project folder (with sfdx-project.json).
    #[arg(long, short = 'p', default_value = ".")]
    project_dir: PathBuf,
    /// Replace files that already exist.
    #[arg(long)]
    force: bool,
}

/// Where the components that cannot be packaged go for a Packaged app (`spec/metadata.md` §6.2).
const UNPACKAGED_DIR: &str = "unpackaged";

#[derive(Debug, Serialize)]
struct Created {
    app: String,
    files: Vec<String>,
    notes: Vec<String>,
    /// What `eca validate` says about the new files.
    diagnostics: Vec<Diagnostic>,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    check_api_name(&args.name)
        .map_err(|why| anyhow::anyhow!("`{}` is not a valid API name: {why}", args.name))?;
    let app = app_from_args(args)?;

    let project = project::load(&args.project_dir)?;
    let places = Places::find(&project, args.packaged)?;

    let mut notes = Vec::new();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let (app, key_to_write) = with_certificate(app, args, ctx)?;
    for f in app_files::files(&app) {
        let dir = if f.ty.is_packageable() || !args.packaged {
            &places.package
        } else {
            &places.unpackaged
        };
        let rel = dir.join(f.ty.directory()).join(f.file_name());
        check_existing(&project, &f, &rel)?;
        precheck(&project, &f, &rel)?;
        files.push((rel, f.text()));
    }

    // A folder of the package directory may be a symbolic link out of the project.
    if let Some((rel, _)) = files
        .iter()
        .find(|(rel, _)| !project::is_inside(&args.project_dir, rel))
    {
        bail!(
            "{} leads outside the project through a symbolic link; nothing was written",
            display_path(rel)
        );
    }
    if !args.force {
        refuse_overwrite(args, &files, key_to_write.is_some())?;
    }

    if args.packaged && places.add_unpackaged_to_project {
        add_package_directory(&args.project_dir)?;
        notes.push(format!(
            "added `{UNPACKAGED_DIR}` to packageDirectories in {}",
            sfdx::FILE_NAME
        ));
    }
    let mut written = Vec::new();
    for (rel, text) in &files {
        let path = args.project_dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(output::path(&path));
    }
    if let Some((dir, pair)) = &key_to_write {
        let w = cert::write(dir, &args.name, pair, args.force)?;
        written.push(output::path(&w.certificate));
        written.push(output::path(&w.key));
        notes.push(format!(
            "{} is the private key of the JWT bearer flow: keep it secret and never commit it",
            output::path(&w.key)
        ));
    }
    if args.packaged {
        notes.push(format!(
            "global OAuth settings and policies cannot be packaged; they are in {UNPACKAGED_DIR}/ (deploy them to the org that owns the package)"
        ));
    }
    notes.extend(flow_notes(&app));

    // Validate the project as it now is and show what concerns the new files.
    let project = project::load(&args.project_dir)?;
    let report = validate::validate(
        &project,
        &validate::Options {
            now: Some(ctx.now),
            ..validate::Options::default()
        },
    );
    let ours: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| files.iter().any(|(rel, _)| *rel == d.file))
        .collect();
    let has_errors = ours.iter().any(|d| d.is_error());
    if ctx.json {
        output::json(&Created {
            app: args.name.clone(),
            files: written,
            notes,
            diagnostics: ours.into_iter().cloned().collect(),
        })?;
    } else {
        output::line(&format!("created External Client App {}", args.name));
        for f in &written {
            output::line(&format!("  {f}"));
        }
        for n in &notes {
            output::line(&format!("note: {n}"));
        }
        for d in ours {
            output::line(&render_human(d, report.source_of(&d.file)));
        }
    }
    Ok(if has_errors {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Refuses to replace any file the command would write, before anything is written.
fn refuse_overwrite(
    args: &Args,
    files: &[(PathBuf, String)],
    with_key: bool,
) -> anyhow::Result<()> {
    let certs = certs_dir(args);
    let key_files = [
        certs.join(format!("{}.key", args.name)),
        certs.join(format!("{}.crt", args.name)),
    ];
    let existing: Vec<String> = files
        .iter()
        .map(|(rel, _)| args.project_dir.join(rel))
        .chain(key_files.into_iter().filter(|_| with_key))
        .filter(|p| p.exists())
        .map(|p| output::path(&p))
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    bail!(
        "not overwriting existing files (pass --force to replace them): {}",
        existing.join(", ")
    )
}

/// Turns the flags into an [`App`], refusing combinations that make no sense.
fn app_from_args(args: &Args) -> anyhow::Result<App> {
    let wants_oauth = args.oauth
        || !args.flows.is_empty()
        || !args.scopes.is_empty()
        || !args.callbacks.is_empty()
        || args.run_as.is_some()
        || args.certificate.is_some();
    let mut flows: BTreeSet<Flow> = args.flows.iter().copied().collect();
    if wants_oauth && flows.is_empty() {
        flows.insert(Flow::Web);
    }
    let client_credentials = flows.contains(&Flow::ClientCredentials);
    match (&args.run_as, client_credentials) {
        (None, true) => bail!(
            "the client credentials flow runs as a user: give its username with --run-as (the user must exist in the org and should be API Only)"
        ),
        (Some(_), false) => {
            bail!("--run-as is the client credentials user: add --flows client-credentials")
        }
        (Some(user), true) if !is_username(user) => bail!(
            "--run-as `{user}` is not a Salesforce username, which has the form of an email address (name@example.com)"
        ),
        _ => {}
    }
    if args.certificate.is_some() && !flows.contains(&Flow::JwtBearer) {
        bail!("--certificate is for the JWT bearer flow: add --flows jwt-bearer");
    }
    let saml = if args.saml {
        if args.packaged {
            bail!(
                "SAML apps cannot be packaged: the SAML policies need a Local app; drop --packaged or --saml"
            );
        }
        match (&args.acs_url, &args.entity_id) {
            (Some(acs_url), Some(entity_id)) => Some(Saml {
                acs_url: acs_url.clone(),
                entity_id: entity_id.clone(),
            }),
            _ => bail!("--saml needs the service provider's --acs-url and --entity-id"),
        }
    } else {
        if args.acs_url.is_some() || args.entity_id.is_some() {
            bail!("--acs-url and --entity-id configure the SAML plugin: add --saml");
        }
        None
    };
    let oauth = wants_oauth.then(|| {
        let mut scopes: Vec<String> = Vec::new();
        for s in args
            .scopes
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            if !scopes.iter().any(|have| have == s) {
                scopes.push(s.to_owned());
            }
        }
        if scopes.is_empty() {
            scopes = app_files::default_scopes(&flows);
        }
        let callback_urls = if args.callbacks.is_empty() {
            vec![DEFAULT_CALLBACK.to_owned()]
        } else {
            args.callbacks.iter().map(|c| c.trim().to_owned()).collect()
        };
        Oauth {
            flows,
            scopes,
            callback_urls,
            run_as: args.run_as.clone(),
            certificate: None,
        }
    });
    let label = args.label.clone().unwrap_or_else(|| args.name.clone());
    Ok(App {
        name: args.name.clone(),
        description: args
            .description
            .clone()
            .unwrap_or_else(|| format!("{label} External Client App")),
        label,
        contact_email: args.contact_email.clone(),
        is_packaged: args.packaged,
        oauth,
        saml,
    })
}

/// Where a generated JWT bearer key pair goes.
fn certs_dir(args: &Args) -> PathBuf {
    args.project_dir.join("certs")
}

/// Salesforce usernames have the form of an email address.
fn is_username(user: &str) -> bool {
    user.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && !domain.is_empty() && !user.contains(char::is_whitespace)
    })
}

/// What a developer must still do in the org for the flows to work.
fn flow_notes(app: &App) -> Vec<String> {
    let Some(oauth) = &app.oauth else {
        return match app.saml {
            Some(_) => Vec::new(),
            None => vec![
                "the app has no plugin yet: run the command again with --oauth or --saml, and --force"
                    .to_owned(),
            ],
        };
    };
    let mut notes = Vec::new();
    if app.saml.is_some() {
        notes.push(
            "the app has both the OAuth and the SAML plugin; Salesforce advises one authorization plugin per app"
                .to_owned(),
        );
    }
    if let Some(user) = oauth
        .run_as
        .as_deref()
        .filter(|_| oauth.flows.contains(&Flow::ClientCredentials))
    {
        notes.push(format!(
            "client credentials run as {user}: the user must exist in every org the app is deployed to, ideally with the API Only permission"
        ));
    }
    if oauth.flows.contains(&Flow::JwtBearer) {
        notes.push(format!(
            "the JWT bearer flow has no consent screen: users need the `{}` profile (commaSeparatedProfile in the OAuth policies) or a permission set listed there",
            app_files::JWT_PROFILE
        ));
    }
    notes
}

/// Fills in the JWT bearer certificate: read from --certificate, or generated. A generated
/// key pair is returned with the folder it goes to, to be written with the other files.
fn with_certificate(
    mut app: App,
    args: &Args,
    ctx: &Context,
) -> anyhow::Result<(App, Option<(PathBuf, cert::KeyAndCertificate)>)> {
    let Some(oauth) = app
        .oauth
        .as_mut()
        .filter(|o| o.flows.contains(&Flow::JwtBearer))
    else {
        return Ok((app, None));
    };
    let (pem, generated) = match &args.certificate {
        Some(file) => {
            let pem = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the certificate {}", file.display()))?;
            (pem, None)
        }
        None => {
            let pair = cert::generate(&args.name, 365, ctx.now)?;
            (pair.cert_pem.clone(), Some((certs_dir(args), pair)))
        }
    };
    let body = cert::pem_body(&pem).with_context(|| match &args.certificate {
        Some(file) => format!(
            "{} is not a PEM certificate: it has no -----BEGIN CERTIFICATE----- block",
            file.display()
        ),
        None => "the generated certificate is not PEM".to_owned(),
    })?;
    oauth.certificate = Some(body);
    Ok((app, generated))
}

/// Where the files go, relative to the project root.
#[derive(Debug)]
struct Places {
    /// `<default package dir>/main/default` when it exists, else the package directory.
    package: PathBuf,
    /// For Packaged apps: `unpackaged/main/default`.
    unpackaged: PathBuf,
    add_unpackaged_to_project: bool,
}

impl Places {
    fn find(project: &Project, packaged: bool) -> anyhow::Result<Places> {
        let sfdx = match (&project.layout, &project.sfdx) {
            (Layout::Source, Some(sfdx)) => sfdx,
            _ => bail!(
                "{} is not a source project (no sfdx-project.json); create one with `eca project init`",
                project.root.display()
            ),
        };
        super::refuse_project_file_error(project)?;
        let default = sfdx
            .package_directories
            .iter()
            .find(|d| d.is_default)
            .or_else(|| sfdx.package_directories.first())
            .with_context(|| format!("{} lists no packageDirectories", sfdx::FILE_NAME))?;
        if packaged && default.path == UNPACKAGED_DIR {
            bail!(
                "the default package directory is `{UNPACKAGED_DIR}`; a Packaged app needs a package directory of its own"
            );
        }
        let base = |dir: &str| {
            // The project root itself (`"path": "."`) is no folder of the paths: the project's
            // own files are listed without a leading `./`, and paths compare by parts.
            let dir = if dir == "." { "" } else { dir };
            let main = Path::new(dir).join("main").join("default");
            if project.root.join(&main).is_dir() {
                main
            } else {
                PathBuf::from(dir)
            }
        };
        let has_unpackaged = sfdx
            .package_directories
            .iter()
            .any(|d| d.path == UNPACKAGED_DIR);
        Ok(Places {
            package: base(&default.path),
            unpackaged: Path::new(UNPACKAGED_DIR).join("main").join("default"),
            add_unpackaged_to_project: !has_unpackaged,
        })
    }
}

/// Refuses a component the project already has in another file: one of the same name elsewhere
/// (a second app of the name), or one whose name differs only in case (`shop.eca-meta.xml` for
/// `Shop`). Either would be a duplicate component even with --force: names are compared without
/// regard to case, as the org and `eca validate` (ECA0016) compare them.
fn check_existing(project: &Project, file: &app_files::File, rel: &Path) -> anyhow::Result<()> {
    let Some(other) = project.files.iter().find(|f| {
        f.ty == file.ty && f.full_name.eq_ignore_ascii_case(&file.full_name) && f.path != rel
    }) else {
        return Ok(());
    };
    let what = if file.ty == eca_metadata::MetadataType::ExternalClientApplication {
        "an app".to_owned()
    } else {
        format!("a {}", file.ty.name())
    };
    bail!(
        "{what} named {} already exists at {}, and component names are compared without regard to case; nothing was written",
        other.full_name,
        display_path(&other.path)
    )
}

/// Checks one generated file with the validator before anything is written, so that bad
/// input (an unknown scope, a relative callback URL) is reported and nothing is left half-made.
fn precheck(project: &Project, file: &app_files::File, rel: &Path) -> anyhow::Result<()> {
    let options = validate::Options::default();
    let ctx = validate::FileContext {
        version: project.api_version,
        options: &options,
    };
    let text = file.text();
    let outcome = validate::check_file(file.ty, &file.full_name, rel, text.as_bytes(), ctx);
    for d in &outcome.diagnostics {
        output::eprint(&render_human(d, Some(&text)));
    }
    if outcome.diagnostics.iter().any(Diagnostic::is_error) {
        bail!("the new app would not validate (see above); nothing was written");
    }
    Ok(())
}

fn add_package_directory(project_dir: &Path) -> anyhow::Result<()> {
    let path = project_dir.join(sfdx::FILE_NAME);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let edited = sfdx_edit::add_package_directory(&text, UNPACKAGED_DIR).with_context(|| {
        format!(
            "cannot add `{UNPACKAGED_DIR}` to packageDirectories in {}; add {{\"path\": \"{UNPACKAGED_DIR}\"}} by hand and run the command again",
            path.display()
        )
    })?;
    std::fs::write(&path, edited).with_context(|| format!("cannot write {}", path.display()))
}

/// An app's API name (`spec/metadata.md` §2.1: the file name is the API name). A new app in
/// source never carries a namespace prefix; the project's namespace is added by packaging.
fn check_api_name(name: &str) -> Result<(), &'static str> {
    if name.contains("__") {
        return Err("it may not contain two underscores in a row");
    }
    eca_metadata::project::check_api_name(name)
}
