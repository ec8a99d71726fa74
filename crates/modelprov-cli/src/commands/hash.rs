//! `modelprov hash PATH`: the manifest and root digest of a model.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use modelprov::manifest::{BuildStats, Serialization, manifest_json};
use modelprov::walk::refuse_output_inside;
use modelprov::{Error, Result, RootDigest};
use serde::Serialize;

use crate::args::{CacheArgs, OutputArgs, SerializationArgs};
use crate::exit::Outcome;
use crate::model_build::build_identified_manifest;
use crate::output::{
    describe_serialization, human_bytes, is_stdout, plural, print_json, warn_all, write_output,
};

#[derive(Args, Debug)]
pub struct HashArgs {
    /// The model folder, or a single model file.
    pub path: PathBuf,

    /// Write the manifest (docs/manifest.md) to FILE, or to stdout with '-'; FILE must lie
    /// outside the model.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The model's signature file; left out of the manifest when it lies inside the model.
    #[arg(long, value_name = "FILE")]
    pub signature: Option<PathBuf>,

    #[command(flatten)]
    pub serialization: SerializationArgs,

    #[command(flatten)]
    pub cache: CacheArgs,

    #[command(flatten)]
    pub output_args: OutputArgs,
}

#[derive(Serialize)]
struct HashReport<'a> {
    digest: RootDigest,
    name: &'a str,
    serialization: &'a Serialization,
    #[serde(flatten)]
    stats: &'a BuildStats,
    manifest: Option<&'a Path>,
    seconds: f64,
    warnings: &'a [modelprov::Warning],
}

pub fn run(args: HashArgs) -> Result<Outcome> {
    let to_stdout = args.output.as_deref().is_some_and(is_stdout);
    if to_stdout && args.output_args.json {
        return Err(Error::Usage(
            "--json and --output - both want stdout; write the manifest to a file".into(),
        ));
    }
    if let Some(output) = args.output.as_deref().filter(|_| !to_stdout) {
        refuse_output_inside(&args.path, output, "the manifest")?;
    }
    let own_outputs: Vec<&Path> = args.signature.as_deref().into_iter().collect();
    let (serialization, mut warnings) = args.serialization.resolve(&args.path, &own_outputs)?;
    let started = Instant::now();
    let built = build_identified_manifest(
        &args.path,
        &serialization,
        &args.cache,
        args.output_args.quiet,
        "hash",
        &mut warnings,
    )?;
    let seconds = started.elapsed().as_secs_f64();

    let manifest = &built.manifest;
    let digest = manifest.root_digest();
    if let Some(path) = &args.output {
        write_output(Some(path), manifest_json(manifest).as_bytes())?;
    }
    let manifest_path = args.output.as_deref().filter(|_| !to_stdout);
    if args.output_args.json {
        print_json(&HashReport {
            digest,
            name: &manifest.name,
            serialization: &serialization,
            stats: &built.stats,
            manifest: manifest_path,
            seconds,
            warnings: &warnings,
        });
        return Ok(Outcome::Ok);
    }
    warn_all(&warnings, args.output_args.quiet);
    if to_stdout {
        errln!("{digest}");
    } else {
        outln!("{digest}");
    }
    if !args.output_args.quiet {
        let stats = &built.stats;
        let mut summary = format!(
            "{}, {}, {} ({}) in {seconds:.2} s",
            plural(stats.files, "file"),
            plural(stats.resources, "resource"),
            human_bytes(stats.bytes),
            describe_serialization(&serialization),
        );
        if seconds > 0.0 && stats.bytes_hashed > 0 {
            summary += &format!(
                ", {}/s",
                // A rate for people: the float-to-int cast saturates, which is fine here.
                human_bytes({
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let rate = (stats.bytes_hashed as f64 / seconds) as u64;
                    rate
                })
            );
        }
        if args.cache.requested() {
            summary += &format!(", {} from cache", stats.cache_hits);
        }
        if let Some(path) = manifest_path {
            summary += &format!("; manifest written to {}", path.display());
        }
        errln!("{summary}");
    }
    Ok(Outcome::Ok)
}
