//! `eca validate [PATH]`: every problem in a project, Metadata API folder or zip, offline.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use eca_metadata::diagnostic::{Diagnostic, render_human};
use eca_metadata::project::{self, Project};
use eca_metadata::validate::{self, Report};

use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A source project (with sfdx-project.json), a Metadata API folder (with package.xml) or
    /// a .zip of one.
    #[arg(default_value = ".")]
    path: PathBuf,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let project = project::load(&args.path)?;
    let options = validate::Options {
        now: Some(ctx.now),
        ..validate::Options::default()
    };
    let report = validate::validate(&project, &options);
    if ctx.json {
        output::json(&report.diagnostics)?;
    } else {
        for d in &report.diagnostics {
            let shown = shown_path(&project, d);
            output::line(&render_human(&shown, report.source_of(&d.file)));
        }
        output::line(&summary(&report, project.files.len()));
    }
    Ok(if report.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The diagnostic with its path as the user can open it from the current directory: paths are
/// relative to the project root, so a root other than `.` is put in front (not for zips, whose
/// members cannot be opened directly).
fn shown_path(project: &Project, d: &Diagnostic) -> Diagnostic {
    let mut shown = d.clone();
    let root = &project.root;
    if root.is_dir() && root != Path::new(".") {
        shown.file = root.join(&d.file);
    }
    shown
}

fn summary(report: &Report, files: usize) -> String {
    let (errors, warnings) = (report.error_count(), report.warning_count());
    let checked = plural(files, "file");
    if errors == 0 && warnings == 0 {
        return format!("ok: {checked} checked, no problems");
    }
    let mut parts = Vec::new();
    if errors > 0 || warnings == 0 {
        parts.push(plural(errors, "error"));
    }
    if warnings > 0 {
        parts.push(plural(warnings, "warning"));
    }
    format!("{} in {checked} checked", parts.join(", "))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
