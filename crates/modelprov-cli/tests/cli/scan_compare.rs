//! modelprov's scanner next to `picklescan`, `modelscan`, `fickling` and ModelAudit (PyPI), on the
//! labelled attack corpus and on the real-model corpus (tests/fixtures/real-models, rebuilt by
//! scripts/real-corpus/build). `scripts/test` runs the tables with `--ignored --nocapture` so they
//! are in every CI log; they fail if modelprov misjudges any file (the other tools' verdicts are
//! shown, not asserted).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::corpus::{Label, corpus};
use crate::common::interop::venv;
use modelprov::scan::{Verdict, scan_file};
use sha2::{Digest, Sha256};

const TOOLS: [&str; 4] = [
    "picklescan 1.0.5",
    "modelscan 0.8.8",
    "fickling 0.1.12",
    "modelaudit 0.2.54",
];

/// Seconds each external tool may spend on one table (ModelAudit needs seconds to minutes per
/// file; the files past its budget read "over budget"). `MODELPROV_COMPARE_BUDGET` overrides it.
fn budget() -> String {
    std::env::var("MODELPROV_COMPARE_BUDGET").unwrap_or_else(|_| "45".into())
}

/// Each external tool's verdict per file (clean / flagged / skipped / error (N) / crash /
/// timeout / over budget), from its exit code: tests/cli/common/scanners.py runs the four CLIs in
/// one Python process.
fn external(paths: &[PathBuf]) -> HashMap<PathBuf, [String; 4]> {
    // fickling --check-safety writes safety_results.json into the working directory.
    let scratch = tempfile::tempdir().unwrap();
    let output = Command::new(venv().join("bin/python"))
        .current_dir(scratch.path())
        .arg("-c")
        .arg(include_str!("common/scanners.py"))
        .arg("--budget")
        .arg(budget())
        .args(paths)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        crate::common::interop::text(&output)
    );
    let verdicts: HashMap<PathBuf, [String; 4]> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let path = PathBuf::from(fields.next().unwrap());
            let row = [(); 4].map(|()| fields.next().unwrap_or("missing").to_string());
            (path, row)
        })
        .collect();
    assert_eq!(verdicts.len(), paths.len(), "scanners.py left files out");
    verdicts
}

fn ours(path: &Path) -> &'static str {
    match scan_file(path).verdict {
        Verdict::Safe => "safe",
        Verdict::Unsafe => "unsafe",
        Verdict::Invalid => "invalid",
        Verdict::Unscannable => "unscannable",
    }
}

fn is_clean(verdict: &str) -> bool {
    verdict == "safe" || verdict == "clean"
}

/// Flagged as a threat or as a broken file: what makes a user throw a benign model away.
fn is_alarm(verdict: &str) -> bool {
    matches!(verdict, "unsafe" | "invalid" | "flagged")
}

#[test]
#[ignore = "scripts/test runs it with --ignored --nocapture to print the comparison table"]
fn side_by_side_with_other_scanners() {
    let dir = tempfile::tempdir().unwrap();
    let samples = corpus(dir.path());
    let paths: Vec<PathBuf> = samples.iter().map(|s| s.path.clone()).collect();
    let others = external(&paths);
    let mut rows = Vec::new();
    let mut right = [0usize; 5];
    let judged_right = |label: Label, verdict: &str| match label {
        Label::Benign => is_clean(verdict),
        Label::Malicious | Label::Malformed => {
            !is_clean(verdict) && !matches!(verdict, "skipped" | "timeout" | "over budget")
        }
    };
    for sample in &samples {
        let ours = ours(&sample.path);
        let theirs = &others[&sample.path];
        for (i, verdict) in std::iter::once(ours)
            .chain(theirs.iter().map(String::as_str))
            .enumerate()
        {
            right[i] += usize::from(judged_right(sample.label, verdict));
        }
        assert!(
            judged_right(sample.label, ours),
            "modelprov misjudged {} ({}): {ours}",
            sample.path.display(),
            sample.technique
        );
        let name = sample.path.file_name().unwrap().to_string_lossy();
        rows.push(format!(
            "| {name} | {:?} | {} | {ours} | {} |",
            sample.label,
            sample.technique,
            theirs.join(" | ")
        ));
    }
    println!(
        "\n| file | label | technique | modelprov | {} |",
        TOOLS.join(" | ")
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!("{row}");
    }
    let totals: Vec<String> = right[1..].iter().map(usize::to_string).collect();
    println!(
        "| **judged right** | | {} files | **{}** | {} |",
        samples.len(),
        right[0],
        totals.join(" | ")
    );
}

/// One MANIFEST.tsv row of the real-model corpus.
struct RealModel {
    package: String,
    path: String,
    sha256: String,
    format: String,
}

fn real_models_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/real-models")
}

fn manifest() -> Vec<RealModel> {
    let text = std::fs::read_to_string(real_models_root().join("MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (package, path, sha256, format) = (
        column("package"),
        column("path"),
        column("sha256"),
        column("format"),
    );
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            RealModel {
                package: fields[package].into(),
                path: fields[path].into(),
                sha256: fields[sha256].into(),
                format: fields[format].into(),
            }
        })
        .collect()
}

/// Benign models published inside PyPI packages: modelprov must judge every one safe (a false
/// alarm on a real model is a failure). Files of the manifest that are not on disk (the
/// manifest-only ones, until scripts/real-corpus/build fetches them) are counted and skipped.
#[test]
#[ignore = "scripts/test runs it with --ignored --nocapture to print the comparison table"]
fn real_models_side_by_side() {
    let root = real_models_root();
    let models = manifest();
    assert!(models.len() >= 100, "the real corpus lost files");
    let present: Vec<&RealModel> = models
        .iter()
        .filter(|m| root.join(&m.package).join(&m.path).is_file())
        .collect();
    let paths: Vec<PathBuf> = present
        .iter()
        .map(|m| root.join(&m.package).join(&m.path))
        .collect();
    for (model, path) in present.iter().zip(&paths) {
        let digest = hex::encode(Sha256::digest(std::fs::read(path).unwrap()));
        assert_eq!(
            digest,
            model.sha256,
            "{} differs from MANIFEST.tsv",
            path.display()
        );
    }
    let others = external(&paths);
    let mut alarms = [0usize; 5];
    let mut not_clean = [0usize; 5];
    let mut wrong = Vec::new();
    println!(
        "\n| package | file | format | modelprov | {} |",
        TOOLS.join(" | ")
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (model, path) in present.iter().zip(&paths) {
        let ours = ours(path);
        let theirs = &others[path];
        for (i, verdict) in std::iter::once(ours)
            .chain(theirs.iter().map(String::as_str))
            .enumerate()
        {
            alarms[i] += usize::from(is_alarm(verdict));
            not_clean[i] += usize::from(!is_clean(verdict));
        }
        if ours != "safe" {
            wrong.push(format!("{}/{}: {ours}", model.package, model.path));
        }
        println!(
            "| {} | {} | {} | {ours} | {} |",
            model.package,
            model.path,
            model.format,
            theirs.join(" | ")
        );
    }
    let row = |counts: &[usize; 5]| {
        counts
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" | ")
    };
    println!(
        "| **false alarms** (flagged or invalid) | {} files | | {} |",
        present.len(),
        row(&alarms)
    );
    println!(
        "| **not judged clean** (any other answer) | {} absent | | {} |",
        models.len() - present.len(),
        row(&not_clean)
    );
    assert!(
        wrong.is_empty(),
        "modelprov judged {} of {} real benign models not safe:\n{}",
        wrong.len(),
        present.len(),
        wrong.join("\n")
    );
}

/// Real joblib 1.6 dumps (written by joblib itself, with NumPy): arrays inside the pickle stream
/// are stepped over, a plain dump is safe, an object array is judged by its elements.
#[test]
fn real_joblib_dumps() {
    let dir = tempfile::tempdir().unwrap();
    let script = "import sys, collections, joblib, numpy as np\n\
        joblib.dump({'w': np.arange(10, dtype='float32'), 'b': np.ones((3, 4)), 'names': ['a', 'b'], 'od': collections.OrderedDict(x=1)}, sys.argv[1] + '/plain.joblib')\n\
        joblib.dump({'w': np.array([1, 'x', None], dtype=object)}, sys.argv[1] + '/objects.joblib')\n";
    crate::common::interop::python_ok(script, &[dir.path().to_str().unwrap()]);
    assert_eq!(
        scan_file(&dir.path().join("plain.joblib")).verdict,
        Verdict::Safe
    );
    // An object array's elements are pickled in the same stream and judged there: ints, text
    // and None are safe, so the array is too.
    let objects = scan_file(&dir.path().join("objects.joblib"));
    assert_eq!(objects.verdict, Verdict::Safe, "{:?}", objects.findings);
    assert!(
        objects
            .notes
            .iter()
            .any(|n| n.contains("NumPy object array"))
    );
}

/// Real HDF5 files written by h5py the way Keras 2 saves (`model_config` attribute), and real GGUF
/// files written by llama.cpp's gguf-py: a Lambda layer and a chat template reaching Python
/// internals are flagged, the ordinary ones are safe.
#[test]
fn real_keras_hdf5_and_gguf_files() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"
import json, sys, h5py, numpy as np, gguf
out = sys.argv[1]
def keras(layer):
    return json.dumps({"class_name": "Sequential", "config": {"name": "m", "layers": [
        {"class_name": layer, "config": {"name": "l", "function": ["4wEAAAAAAAAA", None, None] if layer == "Lambda" else None}}]}})
for name, layer in [("dense", "Dense"), ("lambda", "Lambda")]:
    with h5py.File(f"{out}/{name}.h5", "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["model_config"] = keras(layer)
        f.create_group("model_weights").create_dataset("kernel", data=np.zeros((64, 64), dtype="float32"))
for name, template in [("plain", "{% for m in messages %}{{ m['content'] }}{% endfor %}"),
                       ("ssti", "{{ cycler.__init__.__globals__.os.popen('id').read() }}")]:
    w = gguf.GGUFWriter(f"{out}/{name}.gguf", "llama")
    w.add_chat_template(template)
    w.add_tensor("t", np.zeros((4,), dtype=np.float32))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
"#;
    crate::common::interop::python_ok(script, &[dir.path().to_str().unwrap()]);
    for (file, verdict) in [
        ("dense.h5", Verdict::Safe),
        ("lambda.h5", Verdict::Unsafe),
        ("plain.gguf", Verdict::Safe),
        ("ssti.gguf", Verdict::Unsafe),
    ] {
        let scan = scan_file(&dir.path().join(file));
        assert_eq!(
            scan.verdict, verdict,
            "{file}: {:?} {:?}",
            scan.findings, scan.notes
        );
    }
}
