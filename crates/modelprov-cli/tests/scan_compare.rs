//! modelprov's scanner next to `picklescan` and `modelscan` (PyPI) on the same labelled corpus.
//! `scripts/test` runs this with `--ignored --nocapture` so the table is in every CI log; it fails
//! if modelprov misjudges any file (the other tools' verdicts are shown, not asserted).

mod common;

use std::process::Command;

use common::corpus::{Label, corpus};
use common::interop::venv;
use modelprov::scan::{Verdict, scan_file};

/// flagged / clean / skipped / error, from a scanner's exit code.
fn external(tool: &str, path: &std::path::Path) -> String {
    let output = Command::new(venv().join("bin").join(tool))
        .arg("-p")
        .arg(path)
        .output()
        .unwrap();
    match output.status.code() {
        Some(0) => "clean".into(),
        Some(1) => "flagged".into(),
        Some(3) if tool == "modelscan" => "skipped".into(),
        Some(code) => format!("error ({code})"),
        None => "killed".into(),
    }
}

#[test]
#[ignore = "scripts/test runs it with --ignored --nocapture to print the comparison table"]
fn side_by_side_with_picklescan_and_modelscan() {
    let dir = tempfile::tempdir().unwrap();
    let samples = corpus(dir.path());
    let mut rows = Vec::new();
    let mut right = [0usize; 3];
    let judged_right = |label: Label, verdict: &str| match label {
        Label::Benign => verdict == "safe" || verdict == "clean",
        Label::Malicious | Label::Malformed => {
            verdict != "safe" && verdict != "clean" && verdict != "skipped"
        }
    };
    for sample in &samples {
        let ours = match scan_file(&sample.path).verdict {
            Verdict::Safe => "safe",
            Verdict::Unsafe => "unsafe",
            Verdict::Invalid => "invalid",
            Verdict::Unscannable => "unscannable",
        };
        let picklescan = external("picklescan", &sample.path);
        let modelscan = external("modelscan", &sample.path);
        for (i, verdict) in [ours, &picklescan, &modelscan].iter().enumerate() {
            right[i] += usize::from(judged_right(sample.label, verdict));
        }
        assert!(
            judged_right(sample.label, ours),
            "modelprov misjudged {} ({}): {ours}",
            sample.path.display(),
            sample.technique
        );
        let name = sample
            .path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        rows.push(format!(
            "| {name} | {:?} | {} | {ours} | {picklescan} | {modelscan} |",
            sample.label, sample.technique
        ));
    }
    println!("\n| file | label | technique | modelprov | picklescan 1.0.5 | modelscan 0.8.8 |");
    println!("|---|---|---|---|---|---|");
    for row in &rows {
        println!("{row}");
    }
    println!(
        "| **judged right** | | {} files | **{}** | {} | {} |",
        samples.len(),
        right[0],
        right[1],
        right[2]
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
    let output = common::interop::python(script, &[dir.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        common::interop::text(&output)
    );
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
    let output = common::interop::python(script, &[dir.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        common::interop::text(&output)
    );
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
