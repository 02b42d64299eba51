//! `eca delete app NAME`: a destructive deploy (an empty `package.xml` and a
//! `destructiveChanges.xml` naming the app's header), which removes the app with its settings
//! and policies and revokes its tokens. Asks first on a terminal unless `--no-prompt`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use eca_deploy::DeployOptions;
use eca_metadata::project::manifest::Manifest;
use eca_metadata::{ApiVersion, MetadataType};

use crate::client::{Client, Target};
use crate::commands::deploy::{deploy_zip, report};
use crate::{Context, output};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The app's API name (its `ExternalClientApplication` full name).
    name: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    no_prompt: bool,
    #[command(flatten)]
    target: Target,
}

pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<ExitCode> {
    let client = Client::for_target(&args.target)?;
    if !args.no_prompt {
        if !std::io::stdin().is_terminal() {
            bail!(
                "refusing to delete `{}` without confirmation: pass --no-prompt",
                args.name
            );
        }
        output::eprint(&format!(
            "Delete the External Client App `{}` with its settings and policies from {} ({}), and revoke its tokens? [y/N] ",
            args.name, client.login.username, client.login.instance_url
        ));
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
            output::eprint("Nothing was deleted.\n");
            return Ok(ExitCode::FAILURE);
        }
    }
    let zip = destructive_zip(&args.name)?;
    let result = deploy_zip(&client, zip, DeployOptions::default(), !ctx.json)?;
    report(&result, ctx)
}

/// `package.xml` naming nothing, and `destructiveChanges.xml` naming the header.
fn destructive_zip(name: &str) -> anyhow::Result<Vec<u8>> {
    let empty = Manifest::from_components(std::iter::empty(), ApiVersion::DEFAULT);
    let mut destructive = Manifest::from_components(
        [(MetadataType::ExternalClientApplication, name)],
        ApiVersion::DEFAULT,
    );
    destructive.version = None;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (file, text) in [
        ("package.xml", empty.to_xml()),
        ("destructiveChanges.xml", destructive.to_xml()),
    ] {
        writer
            .start_file(file, options)
            .context("writing the zip")?;
        writer
            .write_all(text.as_bytes())
            .context("writing the zip")?;
    }
    Ok(writer.finish().context("writing the zip")?.into_inner())
}
