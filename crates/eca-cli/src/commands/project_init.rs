//! `eca project init NAME`: a new, empty SFDX project ready for `eca app new`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use eca_metadata::project::{forceignore, sfdx};
use serde::Serialize;

use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project name; also the name of the folder created.
    name: String,
    /// The folder to create the project in.
    #[arg(long, short = 'd', default_value = ".")]
    output_dir: PathBuf,
}

#[derive(Debug, Serialize)]
struct Created {
    project: String,
    files: Vec<String>,
}

const PACKAGE_DIR: &str = "force-app/main/default";

/// Keeps generated private keys (`eca cert new`, `eca app new --flows jwt-bearer`) and the
/// Salesforce CLI's local state out of version control.
const GITIGNORE: &str = "\
# Salesforce CLI state
.sf/
.sfdx/

# Private keys made by `eca cert new` and `eca app new --flows jwt-bearer`: never commit them.
certs/*.key
*.key
";

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    check_name(&args.name)?;
    let root = args.output_dir.join(&args.name);
    if root.exists() {
        let is_empty = root.is_dir()
            && std::fs::read_dir(&root)
                .with_context(|| format!("cannot read {}", root.display()))?
                .next()
                .is_none();
        if !is_empty {
            bail!(
                "{} already exists and is not an empty folder; choose another name or --output-dir",
                root.display()
            );
        }
    }
    let readme = readme(&args.name);
    let files: [(&str, &str); 4] = [
        (sfdx::FILE_NAME, &sfdx::default_json(&args.name)),
        (forceignore::FILE_NAME, forceignore::DEFAULT_CONTENTS),
        (".gitignore", GITIGNORE),
        ("README.md", &readme),
    ];
    let package_dir = root.join(PACKAGE_DIR);
    std::fs::create_dir_all(&package_dir)
        .with_context(|| format!("cannot create {}", package_dir.display()))?;
    let mut written = Vec::new();
    for (name, contents) in files {
        let path = root.join(name);
        std::fs::write(&path, contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(output::path(&path));
    }
    written.push(format!("{}/", output::path(&package_dir)));

    if ctx.json {
        output::json(&Created {
            project: output::path(&root),
            files: written,
        })?;
    } else {
        output::line(&format!(
            "created project {} in {}",
            args.name,
            output::path(&root)
        ));
        for f in &written {
            output::line(&format!("  {f}"));
        }
        output::line(&format!(
            "next: cd {} && eca app new My_App --oauth",
            output::path(&root)
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// A project name becomes a folder name, so it must be one plain path component.
fn check_name(name: &str) -> anyhow::Result<()> {
    if name.trim().is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        bail!("`{name}` cannot be a project name: it must be a plain folder name, without `/`");
    }
    Ok(())
}

fn readme(name: &str) -> String {
    format!(
        "# {name}

An SFDX project of Salesforce External Client Apps.

- `eca app new My_App --oauth` adds an app under `force-app/main/default/`.
- `eca validate` checks every file offline.
- `eca project convert source --output-dir mdapi/` writes a Metadata API deploy folder.

Global OAuth settings (`*.ecaGlblOauth-meta.xml`) can hold the consumer secret and the
certificate: keep secrets out of version control.
"
    )
}
