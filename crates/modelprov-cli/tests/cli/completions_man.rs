//! `modelprov completions SHELL` and `modelprov man`: the scripts parse in their shells and
//! complete every subcommand, and there is a man page per subcommand that renders cleanly.
//!
//! The subcommands are read from `--help`, not from a list kept here, so a new subcommand that
//! misses its completion or page fails these tests.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::{json, path_str, run, run_err};

/// Every subcommand as its path of names (`["card", "validate"]`), parents before children.
fn subcommands() -> Vec<Vec<String>> {
    fn children(path: &[String]) -> Vec<String> {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = run(&args, 0);
        help.lines()
            .skip_while(|line| *line != "Commands:")
            .skip(1)
            .take_while(|line| !line.trim().is_empty())
            .filter_map(|line| line.split_whitespace().next())
            .filter(|name| *name != "help")
            .map(str::to_string)
            .collect()
    }
    let mut all = Vec::new();
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = pending.pop() {
        for child in children(&path) {
            let mut child_path = path.clone();
            child_path.push(child);
            all.push(child_path.clone());
            pending.push(child_path);
        }
    }
    all.sort();
    all
}

/// The commands that have subcommands (the root as `[]`), each with its children's names.
fn parents() -> Vec<(Vec<String>, BTreeSet<String>)> {
    let all = subcommands();
    let mut parents: Vec<(Vec<String>, BTreeSet<String>)> = Vec::new();
    for path in &all {
        let (name, parent) = path.split_last().unwrap();
        match parents.iter_mut().find(|(p, _)| p == parent) {
            Some((_, names)) => {
                names.insert(name.clone());
            }
            None => parents.push((parent.to_vec(), BTreeSet::from([name.clone()]))),
        }
    }
    parents
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn completion_script(shell: &str, into: &Path) -> std::path::PathBuf {
    let path = into.join(format!("modelprov.{shell}"));
    fs::write(&path, run(&["completions", shell], 0)).unwrap();
    path
}

/// Runs `program args...`, which must succeed; returns stdout.
fn succeed(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_subcommands_are_found() {
    let all = subcommands();
    for expected in [
        &["hash"][..],
        &["card", "validate"],
        &["lineage", "record"],
        &["man"],
    ] {
        assert!(
            all.iter().any(|path| path == expected),
            "{expected:?} not among {all:?}"
        );
    }
}

#[test]
fn bash_completion_parses_and_completes_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let script = completion_script("bash", dir.path());
    succeed("bash", &["-n", path_str(&script)]);
    // What bash does on TAB after `modelprov card `: the completion function fills COMPREPLY.
    let complete = r#"source "$1"; shift
COMP_WORDS=("$@" ""); COMP_CWORD=$#; COMP_LINE="$* "; COMP_POINT=${#COMP_LINE}
_modelprov modelprov "" "${!#}"
printf '%s\n' "${COMPREPLY[@]}""#;
    for (parent, names) in parents() {
        let mut args = vec!["-c", complete, "bash", path_str(&script), "modelprov"];
        args.extend(parent.iter().map(String::as_str));
        let offered: BTreeSet<String> =
            succeed("bash", &args).lines().map(str::to_string).collect();
        for name in &names {
            assert!(
                offered.contains(name),
                "bash does not offer {name} after `modelprov {}`; offered {offered:?}",
                parent.join(" ")
            );
        }
    }
}

#[test]
fn fish_completion_parses_and_completes_every_subcommand() {
    if !have("fish") {
        eprintln!("skipped: fish is not installed (scripts/test installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = completion_script("fish", dir.path());
    succeed("fish", &["--no-execute", path_str(&script)]);
    for (parent, names) in parents() {
        let line = format!("modelprov {} ", parent.join(" "));
        let command = format!("source '{}'; complete -C '{line}'", path_str(&script));
        let offered: BTreeSet<String> = succeed("fish", &["--no-config", "-c", &command])
            .lines()
            .filter_map(|line| line.split('\t').next())
            .map(str::to_string)
            .collect();
        for name in &names {
            assert!(
                offered.contains(name),
                "fish does not offer {name} after `{line}`; offered {offered:?}"
            );
        }
    }
}

#[test]
fn zsh_completion_parses_and_lists_every_subcommand() {
    let script_text = run(&["completions", "zsh"], 0);
    assert!(script_text.starts_with("#compdef modelprov"));
    // zsh's completion entries are 'name:description'.
    for path in subcommands() {
        let name = path.last().unwrap();
        assert!(
            script_text.contains(&format!("'{name}:")),
            "zsh completion lacks {}",
            path.join(" ")
        );
    }
    if !have("zsh") {
        eprintln!(
            "skipped: zsh is not installed (scripts/test installs it); its syntax is unchecked"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("_modelprov");
    fs::write(&script, script_text).unwrap();
    succeed("zsh", &["-n", path_str(&script)]);
}

#[test]
fn completions_of_an_unknown_shell_are_a_usage_error() {
    let stderr = run_err(&["completions", "tcsh"], 2);
    assert!(stderr.contains("possible values: bash"), "{stderr}");
}

#[test]
fn man_writes_a_page_for_every_subcommand_that_renders_without_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("man/man1");
    let stderr = run_err(&["man", "-o", path_str(&folder)], 0);

    let mut expected = BTreeSet::from(["modelprov.1".to_string()]);
    for path in subcommands() {
        expected.insert(format!("modelprov-{}.1", path.join("-")));
    }
    let written: BTreeSet<String> = fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(written, expected, "no temporary files, no help pages");
    assert!(
        stderr.contains(&format!("wrote {} man pages", expected.len())),
        "{stderr}"
    );

    // `modelprov man` prints the top page, the same as the file.
    let top = run(&["man"], 0);
    assert!(top.starts_with(".ie"), "{top}");
    assert!(top.contains(".TH modelprov 1"), "{top}");
    assert_eq!(fs::read_to_string(folder.join("modelprov.1")).unwrap(), top);

    let validate = fs::read_to_string(folder.join("modelprov-card-validate.1")).unwrap();
    assert!(
        validate.contains(".TH modelprov-card-validate 1"),
        "{validate}"
    );
    assert!(validate.contains(r"\-\-strict"), "its options are listed");

    if !have("groff") {
        eprintln!("skipped: groff is not installed; the pages' rendering is unchecked");
        return;
    }
    for name in &expected {
        let page = folder.join(name);
        let output = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-z", path_str(&page)])
            .output()
            .unwrap();
        let warnings = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && warnings.is_empty(),
            "{name} does not render cleanly:\n{warnings}"
        );
    }
}

#[test]
fn man_json_lists_the_pages_written() {
    let dir = tempfile::tempdir().unwrap();
    let out = json(&run(&["man", "-o", path_str(dir.path()), "--json"], 0));
    let pages = out["pages"].as_array().unwrap();
    assert_eq!(pages.len(), subcommands().len() + 1);
    for page in pages {
        assert!(Path::new(page.as_str().unwrap()).is_file(), "{page}");
    }
}

#[test]
fn man_into_an_unusable_folder_is_an_input_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    fs::write(&file, "x").unwrap();
    let stderr = run_err(&["man", "-o", path_str(&file)], 2);
    assert!(stderr.contains("not-a-folder"), "{stderr}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "x");

    let stderr = run_err(&["man", "--json"], 2);
    assert!(stderr.contains("--output"), "{stderr}");
}

#[test]
fn a_failed_write_to_stdout_is_an_error_not_a_panic() {
    // /dev/full accepts the open and fails every write, like a full disk.
    let Ok(full) = fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("skipped: no /dev/full");
        return;
    };
    for args in [&["man"][..], &["completions", "bash"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_modelprov"))
            .args(args)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write to stdout"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
