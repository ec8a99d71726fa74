//! `modelprov man`: roff man pages generated from the clap definition, one for the top command
//! and one for every subcommand (`modelprov-card-validate.1`, ...), as packagers install them.

use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_mangen::Man;
use modelprov::fsutil::write_atomically;
use modelprov::{Error, Result};
use serde::Serialize;

use crate::args::OutputArgs;
use crate::exit::Outcome;
use crate::output::{plural, print_json};

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write modelprov.1 and one page per subcommand into this folder (created if missing)
    /// instead of printing the top page.
    #[arg(long, short = 'o', value_name = "DIR")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub output_format: OutputArgs,
}

#[derive(Serialize)]
struct Written {
    folder: PathBuf,
    pages: Vec<PathBuf>,
}

pub fn run(args: ManArgs) -> Result<Outcome> {
    // No `help` pseudo-subcommand: it would get pages of its own (as clap_mangen::generate_to).
    let mut command = crate::Cli::command().disable_help_subcommand(true);
    // Building sets each subcommand's display name to its full name (modelprov-card-validate),
    // which names its page.
    command.build();
    let Some(folder) = args.output else {
        if args.output_format.json {
            return Err(Error::Usage(
                "--json lists the pages written with --output; without it the page itself is printed"
                    .to_string(),
            ));
        }
        crate::output::write_stdout_bytes(&render(&page(&command))?);
        return Ok(Outcome::Ok);
    };

    // Every page is rendered before the first is written, so a failure writes nothing.
    let mut pages = Vec::new();
    collect(&command, &mut pages)?;
    std::fs::create_dir_all(&folder).map_err(|e| Error::io("create folder", &folder, e))?;
    let mut written = Written {
        folder: folder.clone(),
        pages: Vec::new(),
    };
    for (name, roff) in pages {
        let path = folder.join(name);
        write_atomically(&path, &roff)?;
        written.pages.push(path);
    }
    if args.output_format.json {
        print_json(&written);
    } else if !args.output_format.quiet {
        errln!(
            "wrote {} to {}",
            plural(written.pages.len(), "man page"),
            folder.display()
        );
    }
    Ok(Outcome::Ok)
}

/// The page of `command` and, depth first, of each visible subcommand, as (file name, roff).
fn collect(command: &clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let man = page(command);
    let roff = render(&man)?;
    pages.push((man.get_filename(), roff));
    for subcommand in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect(subcommand, pages)?;
    }
    Ok(())
}

/// Every page's footer names the tool and its version (clap_mangen would put only a
/// subcommand's own name there).
fn page(command: &clap::Command) -> Man {
    Man::new(command.clone()).source(format!("modelprov {}", env!("CARGO_PKG_VERSION")))
}

fn render(man: &Man) -> Result<Vec<u8>> {
    let mut roff = Vec::new();
    // Writing into memory cannot fail; the error is kept rather than unwrapped all the same.
    man.render(&mut roff)
        .map_err(|e| Error::io("render the man page", man.get_filename(), e))?;
    Ok(roff)
}
