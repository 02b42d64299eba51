//! `eca manifest`: a `package.xml` listing every External Client App component of a project,
//! for `sf project deploy start --manifest` or a retrieve.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use eca_metadata::project::{self, manifest::Manifest};
use serde::Serialize;

use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project (source folder, Metadata API folder or zip).
    #[arg(long, short = 'p', default_value = ".")]
    project_dir: PathBuf,
    /// Where to write the manifest [default: PROJECT_DIR/manifest/package.xml].
    #[arg(long, short = 'o')]
    output: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Written {
    manifest: String,
    version: String,
    components: usize,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = project::load(&args.project_dir)?;
    let manifest = Manifest::from_components(
        project.files.iter().map(|f| (f.ty, f.full_name.as_str())),
        project.api_version,
    );
    let path = args
        .output
        .clone()
        .unwrap_or_else(|| args.project_dir.join("manifest").join("package.xml"));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(&path, manifest.to_xml())
        .with_context(|| format!("cannot write {}", path.display()))?;
    if project.files.is_empty() {
        output::warning(&format!(
            "{} has no External Client App components; the manifest lists none",
            output::path(&args.project_dir)
        ));
    }
    let written = Written {
        manifest: output::path(&path),
        version: project.api_version.to_string(),
        components: project.files.len(),
    };
    if ctx.json {
        output::json(&written)?;
    } else {
        output::line(&format!(
            "wrote {} ({} component{}, API {})",
            written.manifest,
            written.components,
            if written.components == 1 { "" } else { "s" },
            written.version
        ));
    }
    Ok(ExitCode::SUCCESS)
}
