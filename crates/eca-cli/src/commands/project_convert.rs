//! `eca project convert source|mdapi`: between source format and Metadata API format, as
//! `sf project convert source` and `sf project convert mdapi` do. File contents never change;
//! only names and places do.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use eca_metadata::project::convert::{self, Summary, Target};
use eca_metadata::project::{self, Project};

use crate::{Context, output};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Source format to Metadata API format (a folder or a deploy zip with package.xml).
    Source(SourceArgs),
    /// Metadata API format (a folder or a zip) to source format.
    Mdapi(MdapiArgs),
}

#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// The source project (the folder with sfdx-project.json).
    #[arg(long, short = 'r', default_value = ".")]
    root_dir: PathBuf,
    #[command(flatten)]
    target: TargetArgs,
    /// Write into an output folder that is not empty (stale files there would be deployed).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct TargetArgs {
    /// The Metadata API folder to write (package.xml plus one folder per type).
    #[arg(long, short = 'd')]
    output_dir: Option<PathBuf>,
    /// The deploy zip to write.
    #[arg(long)]
    output_zip: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct MdapiArgs {
    /// The Metadata API folder or .zip to read.
    #[arg(long, short = 'r')]
    root_dir: PathBuf,
    /// The source project to write into: files go to `force-app/main/default/`, and an
    /// sfdx-project.json is created when there is none. Existing files of the same components
    /// are replaced.
    #[arg(long, short = 'd', default_value = ".")]
    output_dir: PathBuf,
}

pub fn run(command: &Command, ctx: &Context) -> anyhow::Result<ExitCode> {
    match command {
        Command::Source(args) => source(args, ctx),
        Command::Mdapi(args) => mdapi(args, ctx),
    }
}

fn source(args: &SourceArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = project::load(&args.root_dir)?;
    let target = match (&args.target.output_dir, &args.target.output_zip) {
        (Some(dir), _) => {
            if !args.force && is_non_empty_dir(dir)? {
                bail!(
                    "{} is not empty; files left there from an earlier conversion would be deployed too. Choose an empty folder or pass --force",
                    dir.display()
                );
            }
            Target::Directory(dir.clone())
        }
        (None, Some(zip)) => Target::Zip(zip.clone()),
        (None, None) => bail!("give --output-dir or --output-zip"),
    };
    let summary = convert::to_mdapi(&project, &target)?;
    let place = match &target {
        Target::Directory(p) | Target::Zip(p) => p.clone(),
    };
    report(&project, &summary, &place, ctx)
}

fn mdapi(args: &MdapiArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = project::load(&args.root_dir)?;
    std::fs::create_dir_all(&args.output_dir)
        .with_context(|| format!("cannot create {}", args.output_dir.display()))?;
    let summary = convert::to_source(&project, &args.output_dir)?;
    report(&project, &summary, &args.output_dir, ctx)
}

#[derive(Debug, serde::Serialize)]
struct Converted<'a> {
    output: String,
    #[serde(flatten)]
    summary: &'a Summary,
    /// Problems met while reading the project; misnamed files among them were not converted.
    problems: Vec<String>,
}

fn report(
    project: &Project,
    summary: &Summary,
    place: &Path,
    ctx: &Context,
) -> anyhow::Result<ExitCode> {
    // Files that `load` could not classify are not converted; say so instead of dropping them
    // silently.
    let problems: Vec<String> = project
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                eca_metadata::diagnostic::display_path(&d.file),
                d.message
            )
        })
        .collect();
    let output_path = eca_metadata::diagnostic::display_path(place);
    if ctx.json {
        output::json(&Converted {
            output: output_path,
            summary,
            problems,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    output::line(&format!(
        "converted {} component{} to {output_path}",
        summary.components,
        if summary.components == 1 { "" } else { "s" }
    ));
    for f in &summary.files {
        output::line(&format!("  {f}"));
    }
    for p in &problems {
        output::warning(p);
    }
    if !problems.is_empty() {
        output::warning("misnamed files are not converted; run `eca validate` for details");
    }
    Ok(ExitCode::SUCCESS)
}

fn is_non_empty_dir(dir: &Path) -> anyhow::Result<bool> {
    if !dir.exists() {
        return Ok(false);
    }
    if !dir.is_dir() {
        bail!("{} exists and is not a folder", dir.display());
    }
    let mut entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    Ok(entries.next().is_some())
}
