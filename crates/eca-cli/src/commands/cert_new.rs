//! `eca cert new --common-name CN`: an RSA key and a self-signed certificate for the JWT
//! bearer flow.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use serde::Serialize;

use crate::{Context, cert, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The certificate's subject common name (CN).
    #[arg(long)]
    common_name: String,
    /// Days the certificate is valid.
    #[arg(long, default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    days: u32,
    /// The folder to write NAME.key and NAME.crt into.
    #[arg(long, short = 'd', default_value = ".")]
    output_dir: PathBuf,
    /// The file name without extension; defaults to the common name with unsafe characters
    /// replaced by `_`.
    #[arg(long)]
    name: Option<String>,
}

#[derive(Debug, Serialize)]
struct Created {
    key: String,
    certificate: String,
    common_name: String,
    not_after: String,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let name = match &args.name {
        Some(n) if n.is_empty() || n.contains(['/', '\\']) || n.starts_with('.') => {
            bail!("`{n}` cannot be a file name: give a plain name without `/`")
        }
        Some(n) => n.clone(),
        None => cert::file_name_for(&args.common_name),
    };
    if args.common_name.trim().is_empty() {
        bail!("--common-name must not be empty");
    }
    let pair = cert::generate(&args.common_name, args.days, ctx.now)?;
    let written = cert::write(&args.output_dir, &name, &pair, false)?;
    let created = Created {
        key: output::path(&written.key),
        certificate: output::path(&written.certificate),
        common_name: args.common_name.clone(),
        not_after: cert::date(pair.not_after),
    };
    if ctx.json {
        output::json(&created)?;
    } else {
        output::line(&format!("wrote {}", created.certificate));
        output::line(&format!(
            "wrote {} (private: keep it secret, never commit it)",
            created.key
        ));
        output::line(&format!(
            "CN={}, RSA 2048, SHA-256, valid until {}",
            created.common_name, created.not_after
        ));
    }
    Ok(ExitCode::SUCCESS)
}
