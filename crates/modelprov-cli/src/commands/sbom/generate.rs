//! `modelprov sbom generate DIR`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use modelprov::Result;
use modelprov::sbom::{
    CycloneDxVersion, DocumentFormat, SbomRequest, gather_inputs, sbom_document, source_date_epoch,
};
use modelprov::walk::refuse_output_inside;

use crate::commands::lineage::RegistryArgs;
use crate::exit::Outcome;
use crate::output::{is_stdout, warn_all, write_output};
use crate::progress_bar::with_progress;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// CycloneDX JSON (ML-BOM).
    Cyclonedx,
    /// SPDX 3.0.1 JSON-LD with the AI and Dataset profiles.
    Spdx,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SpecArg {
    #[value(name = "1.6")]
    V16,
    #[value(name = "1.7")]
    V17,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The model folder.
    pub model: PathBuf,

    #[arg(long, short = 'f', value_enum, default_value = "cyclonedx")]
    pub format: FormatArg,

    /// CycloneDX specification version (SPDX is 3.0.1).
    #[arg(long, value_enum, default_value = "1.6")]
    pub spec: SpecArg,

    /// The model card [default: the folder's README.md, when there is one].
    #[arg(long, value_name = "FILE")]
    pub card: Option<PathBuf>,

    /// The model's lineage record, NAME@VERSION [default: the record holding the folder's digest,
    /// if the registry has one].
    #[arg(long, value_name = "NAME@VERSION")]
    pub id: Option<String>,

    /// A dependency file (requirements.txt, pyproject.toml, uv.lock, poetry.lock, Pipfile.lock,
    /// Cargo.lock, package-lock.json); repeatable. Such files in the folder are read too.
    #[arg(long = "requirements", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,

    /// An offline OSV database: a folder of OSV JSON records.
    #[arg(long, value_name = "DIR")]
    pub osv: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,

    /// Where to write [default: stdout].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[arg(long, short = 'q')]
    pub quiet: bool,
}

pub fn run(args: GenerateArgs) -> Result<Outcome> {
    if let Some(output) = args.output.as_deref().filter(|path| !is_stdout(path)) {
        refuse_output_inside(&args.model, output, "the SBOM")?;
    }
    let request = SbomRequest {
        card: args.card.clone(),
        registry: Some(args.registry.path()?),
        id: args.id.clone(),
        requirements: args.requirements.clone(),
        osv: args.osv.clone(),
        timestamp: source_date_epoch()?,
        ..SbomRequest::new(&args.model)
    };
    let (inputs, warnings) =
        with_progress(args.quiet, None, |context| gather_inputs(&request, context))?;
    let document = sbom_document(
        &inputs,
        match args.format {
            FormatArg::Spdx => DocumentFormat::Spdx,
            FormatArg::Cyclonedx => DocumentFormat::CycloneDx(match args.spec {
                SpecArg::V16 => CycloneDxVersion::V1_6,
                SpecArg::V17 => CycloneDxVersion::V1_7,
            }),
        },
    );
    let mut text = serde_json::to_string_pretty(&document).expect("documents serialise");
    text.push('\n');
    write_output(args.output.as_deref(), text.as_bytes())?;
    if !args.quiet {
        warn_all(&warnings, false);
        errln!(
            "{} files, {} libraries, {} datasets, {} ancestors, {} known vulnerabilities; model {}",
            inputs.manifest.file_count(),
            inputs.packages.len(),
            inputs.datasets.len(),
            inputs.ancestors.len(),
            inputs.vulnerabilities.len(),
            inputs.digest
        );
    }
    Ok(Outcome::Ok)
}
