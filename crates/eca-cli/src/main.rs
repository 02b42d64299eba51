//! `eca`: the command line for SFDX projects of Salesforce External Client Apps. It creates
//! projects and apps, validates them offline, converts between source and Metadata API format,
//! writes manifests and makes certificates for the JWT bearer flow.
//!
//! Every command is a thin adapter in `commands/`: arguments, one call into `eca_metadata`,
//! output through [`output`]. Exit status: 0 success, 1 problems found or the command failed,
//! 2 the project could not be read at all (or the arguments were wrong, as clap reports).

mod app_files;
mod auth_file;
mod cert;
mod client;
mod commands;
mod output;
mod poll;
mod sfdx_edit;
mod table;

use std::process::ExitCode;

use clap::Parser;
use eca_metadata::project::ProjectError;

/// jemalloc instead of glibc's allocator: a token request allocates and frees many small
/// buffers across the runtime's worker threads, and glibc spent 11-12% of the server's CPU on
/// them (fast-bin consolidation included); with jemalloc a client-credentials request takes
/// 30-36 us of CPU instead of 40-45 (docs/benchmarks.md, "The allocator").
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// External Client App metadata tooling: create, validate and convert SFDX projects offline.
#[derive(Debug, Parser)]
#[command(name = "eca", version, propagate_version = true)]
struct Cli {
    /// Print machine-readable JSON on standard output instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: commands::Command,
}

/// What every command gets besides its arguments: values read once here, never in the
/// commands (`STYLE.md`, "No globals").
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub json: bool,
    /// The current time in seconds since the Unix epoch.
    pub now: i64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let ctx = Context {
        json: cli.json,
        now: now_unix(),
    };
    match commands::run(cli.command, &ctx) {
        Ok(code) => code,
        Err(e) => {
            output::error(&format!("{e:#}"));
            if e.chain().any(|cause| cause.is::<ProjectError>()) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// Reads the wall clock. The binary is the one place allowed to: `clippy.toml` keeps the clock
/// out of library code, which takes `now` as a value (certificate expiry checks, validity
/// dates of generated certificates).
#[allow(clippy::disallowed_methods)]
fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
