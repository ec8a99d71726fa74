//! AI-SBOM test helpers: fixtures, generation with a fixed SOURCE_DATE_EPOCH, the tutorial model.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{copy_example_model, json, modelprov, path_str, run};

pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative)
}

/// `sbom generate` with a fixed SOURCE_DATE_EPOCH, parsed.
pub fn generate(args: &[&str], registry: &Path) -> Value {
    let output = modelprov()
        .args(["sbom", "generate"])
        .args(args)
        .args(["--registry", path_str(registry), "-q"])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    json(&String::from_utf8_lossy(&output.stdout))
}

/// The tutorial's model: base GPT-2 (MIT, from huggingface.co), trained on Common Crawl 2024-01
/// (5 TB), depending on transformers 4.30.0; returns (model folder, registry).
pub fn tutorial_model(dir: &Path) -> (PathBuf, PathBuf) {
    let registry = dir.join("registry.sqlite");
    let gpt2 = copy_example_model(&dir.join("gpt2"));
    fs::write(gpt2.join("variant.txt"), "gpt2").unwrap();
    run(
        &[
            "lineage",
            "record",
            "--name",
            "openai-community/gpt2",
            "--model-version",
            "1.0",
            "--model",
            path_str(&gpt2),
            "--registry",
            path_str(&registry),
        ],
        0,
    );
    let model = copy_example_model(&dir.join("tuned"));
    fs::write(model.join("variant.txt"), "tuned").unwrap();
    fs::write(
        model.join("README.md"),
        "---\nlicense: mit\nbase_model: openai-community/gpt2\nbase_model_relation: finetune\npipeline_tag: text-generation\n---\n# gpt2-tuned\n",
    )
    .unwrap();
    fs::write(model.join("requirements.txt"), "transformers==4.30.0\n").unwrap();
    fs::write(
        model.join("config.json"),
        "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"transformers_version\": \"4.30.0\"}\n",
    )
    .unwrap();
    run(
        &[
            "card",
            "init",
            path_str(&model),
            "--name",
            "gpt2-tuned",
            "--model-version",
            "1.0.0",
            "-o",
            path_str(&model.join("README.md")),
            "-q",
        ],
        0,
    );
    // Recorded from a file, to carry the dataset's size.
    let digest = |dir: &Path| {
        run(&["hash", path_str(dir), "--ignore", "README.md", "-q"], 0)
            .trim()
            .to_string()
    };
    let record = dir.join("gpt2-tuned.yaml");
    fs::write(
        &record,
        format!(
            "name: gpt2-tuned\nversion: 1.0.0\ndigest: {}\nparents:\n- digest: {}\n  name: openai-community/gpt2@1.0\n  relation: finetune\n\
             datasets:\n- name: common-crawl\n  version: 2024-01\n  uri: https://commoncrawl.org/blog/january-2024-crawl-archive-now-available\n  size: 5 TB\n",
            digest(&model),
            digest(&gpt2)
        ),
    )
    .unwrap();
    run(
        &[
            "lineage",
            "record",
            "--file",
            path_str(&record),
            "--model",
            path_str(&model),
            "--registry",
            path_str(&registry),
        ],
        0,
    );
    (model, registry)
}
