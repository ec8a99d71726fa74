//! `modelprov sbom`: ML-BOMs of real model folders (bare, with card, with lineage and datasets,
//! with every dependency file kind, with known vulnerabilities), deterministic, valid under
//! modelprov's own offline validator; the official invalid examples are refused.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::sbom::{fixture, generate, tutorial_model};
use crate::common::*;
use serde_json::{Value, json};

fn schemas() -> PathBuf {
    vectors().join("../../schemas")
}

fn own_validate(document: &Value, dir: &Path) {
    let file = dir.join("bom.json");
    fs::write(&file, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    let out = run(&["sbom", "validate", path_str(&file)], 0);
    assert!(out.starts_with("OK: "), "{out}");
}

#[test]
fn the_tutorial_model_has_every_piece_bound_to_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (model, registry) = tutorial_model(dir.path());
    let bom = generate(
        &[path_str(&model), "--osv", path_str(&fixture("osv"))],
        &registry,
    );
    own_validate(&bom, dir.path());
    let component = &bom["metadata"]["component"];
    let digest = run(
        &["hash", path_str(&model), "--ignore", "README.md", "-q"],
        0,
    );
    assert_eq!(component["type"], "machine-learning-model");
    assert_eq!(
        format!(
            "sha256:{}",
            component["hashes"][0]["content"].as_str().unwrap()
        ),
        digest.trim()
    );
    assert_eq!(component["name"], "gpt2-tuned");
    assert_eq!(component["licenses"], json!([{"license": {"id": "MIT"}}]));
    // Every file with its SHA-256, as the manifest has it.
    let files = component["components"].as_array().unwrap();
    assert!(files.iter().any(|f| f["name"] == "model.safetensors"
        && f["hashes"][0]["content"].as_str().unwrap().len() == 64));
    assert!(!files.iter().any(|f| f["name"] == "README.md"));
    // Lineage: GPT-2 with its digest; the dataset; the library and its advisory.
    let ancestor = &component["pedigree"]["ancestors"][0];
    assert_eq!(ancestor["name"], "openai-community/gpt2");
    assert_eq!(ancestor["hashes"][0]["alg"], "SHA-256");
    let data = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "data")
        .unwrap();
    assert_eq!(data["name"], "common-crawl");
    assert_eq!(data["version"], "2024-01");
    assert_eq!(data["data"][0]["description"], "size: 5 TB");
    assert_eq!(ancestor["purl"], "pkg:huggingface/openai-community/gpt2");
    let library = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "library")
        .unwrap();
    assert_eq!(library["purl"], "pkg:pypi/transformers@4.30.0");
    let vulnerability = &bom["vulnerabilities"][0];
    assert_eq!(vulnerability["id"], "GHSA-3863-2447-669p");
    assert_eq!(
        vulnerability["affects"][0]["ref"],
        "pkg:pypi/transformers@4.30.0"
    );
    assert_eq!(
        vulnerability["recommendation"],
        "Upgrade transformers to 4.36.0 or later"
    );
    assert_eq!(
        bom["vulnerabilities"].as_array().unwrap().len(),
        1,
        "the npm fixture does not apply"
    );
    assert_eq!(
        component["modelCard"]["modelParameters"]["task"],
        "text-generation"
    );
    // 1.7 too.
    let v17 = generate(&[path_str(&model), "--spec", "1.7"], &registry);
    assert_eq!(v17["specVersion"], "1.7");
    own_validate(&v17, dir.path());
}

#[test]
fn output_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (model, registry) = tutorial_model(dir.path());
    let first = generate(&[path_str(&model)], &registry);
    let second = generate(&[path_str(&model)], &registry);
    assert_eq!(first, second);
    let spdx = |(): ()| generate(&[path_str(&model), "--format", "spdx"], &registry);
    assert_eq!(spdx(()), spdx(()));
    assert_eq!(first["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
    // Without SOURCE_DATE_EPOCH there is no timestamp, so the bytes still repeat.
    let plain = |(): ()| {
        run(
            &[
                "sbom",
                "generate",
                path_str(&model),
                "--registry",
                path_str(&registry),
                "-q",
            ],
            0,
        )
    };
    assert_eq!(plain(()), plain(()));
}

#[test]
fn every_dependency_file_kind_becomes_purls() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let registry = dir.path().join("registry.sqlite");
    let mut args = vec![path_str(&model).to_string()];
    for file in [
        "requirements.txt",
        "pyproject.toml",
        "uv.lock",
        "poetry.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "package-lock.json",
    ] {
        args.push("--requirements".into());
        args.push(path_str(&fixture(&format!("deps/{file}"))).to_string());
    }
    let bom = generate(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &registry,
    );
    own_validate(&bom, dir.path());
    let purls: Vec<&str> = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    for expected in [
        "pkg:pypi/transformers@4.30.0",
        "pkg:pypi/torch@2.3.1",
        "pkg:pypi/safetensors",
        "pkg:pypi/accelerate@0.30.1",
        "pkg:pypi/numpy@1.26.4",
        "pkg:pypi/requests@2.31.0",
        "pkg:pypi/pyyaml@6.0.1",
        "pkg:pypi/pytest@8.2.0",
        "pkg:cargo/safetensors@0.4.5",
        "pkg:npm/%40huggingface/transformers@3.0.2",
        "pkg:npm/onnxruntime-web@1.19.2",
    ] {
        assert!(
            purls.contains(&expected),
            "{expected} missing from {purls:?}"
        );
    }
    assert!(
        !purls.iter().any(|p| p.contains("acme")),
        "the projects themselves are not dependencies: {purls:?}"
    );
    let model_dependencies = &bom["dependencies"][0];
    assert!(model_dependencies["dependsOn"].as_array().unwrap().len() >= 12);
}

#[test]
fn a_model_without_card_or_lineage_still_lists_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    fs::remove_file(model.join("README.md")).unwrap();
    let bom = generate(&[path_str(&model)], &dir.path().join("none.sqlite"));
    own_validate(&bom, dir.path());
    assert_eq!(bom["metadata"]["component"]["name"], "tiny-model");
    assert_eq!(
        bom["metadata"]["component"]["components"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(bom["metadata"]["component"].get("modelCard").is_none());
    // config.json's transformers_version is a dependency.
    assert_eq!(bom["components"][0]["purl"], "pkg:pypi/transformers@4.46.0");
}

#[test]
fn the_official_invalid_examples_fail_validation() {
    for (file, expected) in [
        ("mlbom-invalid-1.6.json", "names no bom-ref"),
        (
            "aibom-invalid-spdx3.0.1.jsonld",
            "$.@graph[9].relationshipType: (Relationship) \"fineTunedFrom\" is not one of",
        ),
    ] {
        let out = run(
            &[
                "sbom",
                "validate",
                path_str(&schemas().join("examples").join(file)),
            ],
            1,
        );
        assert!(out.contains(expected), "{file}: {out}");
        assert!(out.contains("FAILED: "), "{out}");
    }
    for file in [
        "mlbom-valid-1.6.json",
        "mlbom-valid-1.7.json",
        "aibom-valid-spdx3.0.1.jsonld",
    ] {
        run(
            &[
                "sbom",
                "validate",
                path_str(&schemas().join("examples").join(file)),
            ],
            0,
        );
    }
}

#[test]
fn bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let not_json = dir.path().join("bom.json");
    fs::write(&not_json, "{ nope").unwrap();
    assert!(run_err(&["sbom", "validate", path_str(&not_json)], 2).contains("bom.json: not JSON"));
    let other = dir.path().join("other.json");
    fs::write(&other, "{\"hello\": 1}").unwrap();
    assert!(run_err(&["sbom", "validate", path_str(&other)], 2).contains("neither CycloneDX"));
    let model = copy_example_model(dir.path());
    let bad_requirements = dir.path().join("requirements.txt");
    fs::write(&bad_requirements, "torch==\n").unwrap();
    let error = run_err(
        &[
            "sbom",
            "generate",
            path_str(&model),
            "--requirements",
            path_str(&bad_requirements),
            "--registry",
            "/nonexistent/r.sqlite",
        ],
        2,
    );
    assert!(error.contains("requirements.txt: line 1"), "{error}");
    let bad_osv = dir.path().join("osv");
    fs::create_dir(&bad_osv).unwrap();
    fs::write(bad_osv.join("x.json"), "{\"affected\": []}").unwrap();
    let error = run_err(
        &[
            "sbom",
            "generate",
            path_str(&model),
            "--osv",
            path_str(&bad_osv),
            "--registry",
            "/nonexistent/r.sqlite",
        ],
        2,
    );
    assert!(
        error.contains("x.json: not an OSV record: no id"),
        "{error}"
    );
}

fn write(document: &Value, path: &Path) -> PathBuf {
    fs::write(path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    path.to_path_buf()
}

#[test]
fn diff_names_what_changed_between_two_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (model, registry) = tutorial_model(dir.path());
    let osv = fixture("osv");
    let before = write(
        &generate(&[path_str(&model), "--osv", path_str(&osv)], &registry),
        &dir.path().join("a.json"),
    );
    assert!(
        run(&["sbom", "diff", path_str(&before), path_str(&before)], 0).contains("no differences")
    );
    // The same model in SPDX says the same things.
    let spdx = write(
        &generate(
            &[
                path_str(&model),
                "--osv",
                path_str(&osv),
                "--format",
                "spdx",
            ],
            &registry,
        ),
        &dir.path().join("a.spdx.json"),
    );
    let cross = run(&["sbom", "diff", path_str(&before), path_str(&spdx)], 0);
    assert!(cross.contains("no differences"), "{cross}");

    fs::write(
        model.join("requirements.txt"),
        "transformers==4.36.0\naccelerate==0.30.1\n",
    )
    .unwrap();
    fs::write(
        model.join("config.json"),
        "{\"transformers_version\": \"4.36.0\"}",
    )
    .unwrap();
    let readme = fs::read_to_string(model.join("README.md"))
        .unwrap()
        .replace("license: mit", "license: apache-2.0");
    fs::write(model.join("README.md"), readme).unwrap();
    let after = write(
        &generate(&[path_str(&model), "--osv", path_str(&osv)], &registry),
        &dir.path().join("b.json"),
    );
    let diff = run(&["sbom", "diff", path_str(&before), path_str(&after)], 1);
    for expected in [
        "added     library accelerate@0.30.1",
        "changed   library pkg:pypi/transformers: version 4.30.0 -> 4.36.0",
        "changed   file file:config.json: hashes differ",
        "vulnerability removed  GHSA-3863-2447-669p on pkg:pypi/transformers",
    ] {
        assert!(diff.contains(expected), "{expected}\n{diff}");
    }
    assert!(
        diff.contains("changed   model model: ")
            && diff.contains("licence {\"MIT\"} -> {\"Apache-2.0\"}"),
        "{diff}"
    );
}

#[test]
fn an_sbom_is_signed_with_the_model_and_checked_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (model, registry) = tutorial_model(dir.path());
    let sbom = write(
        &generate(&[path_str(&model)], &registry),
        &dir.path().join("model.cdx.json"),
    );
    let key = dir.path().join("signer.pem");
    run(&["keygen", "--private-key", path_str(&key)], 0);
    let public = dir.path().join("signer.pem.pub");
    let signature = dir.path().join("model.sig");
    run(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "--sbom",
            path_str(&sbom),
            "--card",
            path_str(&model.join("README.md")),
            "-o",
            path_str(&signature),
            "-q",
        ],
        0,
    );
    let statement: Value = {
        let bundle = json(&fs::read_to_string(dir.path().join("model.sbom.sig")).unwrap());
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(
        statement["predicate"],
        json(&fs::read_to_string(&sbom).unwrap())
    );
    let verify = |code: i32| {
        run(
            &[
                "verify",
                path_str(&model),
                "--signature",
                path_str(&signature),
                "--key",
                path_str(&public),
                "--sbom",
                path_str(&sbom),
                "--card",
                path_str(&model.join("README.md")),
            ],
            code,
        )
    };
    let ok = verify(0);
    assert!(ok.contains("OK: SBOM ") && ok.contains("OK: card "), "{ok}");
    let mut edited = json(&fs::read_to_string(&sbom).unwrap());
    edited["metadata"]["component"]["name"] = json!("renamed");
    write(&edited, &sbom);
    assert!(verify(1).contains("the SBOM is not the one that was signed"));
    // An SBOM of other bytes is refused at signing.
    fs::write(model.join("variant.txt"), "changed").unwrap();
    let error = run_err(
        &[
            "sign",
            path_str(&model),
            "--key",
            path_str(&key),
            "--sbom",
            path_str(&sbom),
            "-o",
            path_str(&signature),
        ],
        2,
    );
    assert!(
        error.contains("generate it again before signing"),
        "{error}"
    );
}

#[test]
fn endless_files_are_named_wherever_an_sbom_input_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let (model, registry) = tutorial_model(dir.path());
    let too_large = "/dev/zero: larger than 256 MiB; too large for an SBOM";
    let error = run_err(&["sbom", "validate", "/dev/zero"], 2);
    assert!(error.contains(too_large), "{error}");
    let sbom = write(
        &generate(&[path_str(&model)], &registry),
        &dir.path().join("model.cdx.json"),
    );
    for args in [
        ["sbom", "diff", "/dev/zero", path_str(&sbom)],
        ["sbom", "diff", path_str(&sbom), "/dev/zero"],
    ] {
        let error = run_err(&args, 2);
        assert!(error.contains(too_large), "{error}");
    }
    let key = dir.path().join("signer.pem");
    run(&["keygen", "--private-key", path_str(&key)], 0);
    let signature = dir.path().join("model.sig");
    let sign = |sbom: &str, code: i32| {
        run_full(
            &[
                "sign",
                path_str(&model),
                "--key",
                path_str(&key),
                "--sbom",
                sbom,
                "--sbom-signature",
                path_str(&dir.path().join("model.sbom.sig")),
                "-o",
                path_str(&signature),
                "-q",
            ],
            code,
        )
    };
    assert!(sign("/dev/zero", 2).1.contains(too_large));
    sign(path_str(&sbom), 0);
    let error = run_err(
        &[
            "verify",
            path_str(&model),
            "--signature",
            path_str(&signature),
            "--key",
            path_str(&dir.path().join("signer.pem.pub")),
            "--sbom",
            "/dev/zero",
            "--sbom-signature",
            path_str(&dir.path().join("model.sbom.sig")),
        ],
        2,
    );
    assert!(error.contains(too_large), "{error}");

    // Dependency files and OSV records: a link to /dev/zero under the name modelprov reads.
    let links = dir.path().join("links");
    fs::create_dir(&links).unwrap();
    for name in ["requirements.txt", "uv.lock", "package-lock.json"] {
        let link = links.join(name);
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let error = run_err(
            &[
                "sbom",
                "generate",
                path_str(&model),
                "--requirements",
                path_str(&link),
                "--registry",
                path_str(&registry),
            ],
            2,
        );
        assert!(
            error.contains(&format!(
                "{}: larger than 64 MiB; too large for a dependency file",
                link.display()
            )),
            "{error}"
        );
    }
    let error = run_err(
        &[
            "sbom",
            "generate",
            path_str(&model),
            "--requirements",
            "/dev/zero",
        ],
        2,
    );
    assert!(error.contains("'zero' is not a dependency file"), "{error}");
    let osv = dir.path().join("osv");
    fs::create_dir(&osv).unwrap();
    std::os::unix::fs::symlink("/dev/zero", osv.join("GHSA-zero.json")).unwrap();
    let error = run_err(
        &[
            "sbom",
            "generate",
            path_str(&model),
            "--osv",
            path_str(&osv),
            "--registry",
            path_str(&registry),
        ],
        2,
    );
    assert!(
        error.contains("GHSA-zero.json: not a regular file, so not an OSV record"),
        "{error}"
    );
}

#[test]
fn deeply_nested_inputs_are_input_errors_not_stack_overflows() {
    let dir = tempfile::tempdir().unwrap();
    let model = copy_example_model(dir.path());
    let deep_json = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let bom = dir.path().join("bom.json");
    fs::write(
        &bom,
        format!(
            "{{\"bomFormat\": \"CycloneDX\", \"x\": {}}}",
            deep_json(100_000)
        ),
    )
    .unwrap();
    for args in [
        vec!["sbom", "validate", path_str(&bom)],
        vec!["sbom", "diff", path_str(&bom), path_str(&bom)],
    ] {
        let error = run_err(&args, 2);
        assert!(
            error.contains("bom.json: not JSON: nested deeper than 127 levels"),
            "{error}"
        );
    }
    let deps = dir.path().join("deps");
    fs::create_dir(&deps).unwrap();
    let marker = format!(
        "torch==2.3.1 ; {}python_version > '3'{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let toml_deep = format!("x = {}\n", deep_json(100_000));
    let toml_tables = format!("x = {}1{}\n", "{c = ".repeat(100_000), "}".repeat(100_000));
    let toml_keys = format!("{} = 1\n", vec!["a"; 100_000].join("."));
    for (name, text, expected) in [
        (
            "requirements.txt",
            marker.clone(),
            "line 1: parentheses nested deeper than 32 levels",
        ),
        (
            "pyproject.toml",
            format!(
                "[project]\nname = \"me\"\ndependencies = [\"{}\"]\n",
                marker.trim().replace('\'', "\\\"")
            ),
            "project.dependencies: parentheses nested deeper than 32 levels",
        ),
        ("uv.lock", toml_deep.clone(), "recursion"),
        ("Cargo.lock", toml_tables.clone(), "recursion"),
        ("poetry.lock", toml_keys.clone(), "recursion"),
        (
            "package-lock.json",
            deep_json(100_000),
            "nested deeper than 127 levels",
        ),
        (
            "Pipfile.lock",
            deep_json(100_000),
            "nested deeper than 127 levels",
        ),
    ] {
        let file = deps.join(name);
        fs::write(&file, text).unwrap();
        let error = run_err(
            &[
                "sbom",
                "generate",
                path_str(&model),
                "--requirements",
                path_str(&file),
                "--registry",
                "/nonexistent/r.sqlite",
            ],
            2,
        );
        // The message names the place, without quoting a 200 KB line back.
        assert!(
            error.contains(&format!("{}: ", file.display()))
                && error.contains(expected)
                && error.len() < 500,
            "{name}: {error}"
        );
        fs::remove_file(&file).unwrap();
    }
    // Markers as deep as real ones are read.
    let file = deps.join("requirements.txt");
    fs::write(
        &file,
        "torch==2.3.1 ; ((python_version > '3') and (os_name == 'posix'))\n",
    )
    .unwrap();
    let bom = generate(
        &[path_str(&model), "--requirements", path_str(&file)],
        &dir.path().join("r.sqlite"),
    );
    assert!(bom.to_string().contains("pkg:pypi/torch@2.3.1"));

    let osv = dir.path().join("osv");
    fs::create_dir(&osv).unwrap();
    fs::write(osv.join("deep.json"), deep_json(100_000)).unwrap();
    let error = run_err(
        &[
            "sbom",
            "generate",
            path_str(&model),
            "--osv",
            path_str(&osv),
            "--registry",
            "/nonexistent/r.sqlite",
        ],
        2,
    );
    assert!(
        error.contains("deep.json: not JSON: nested deeper than 127 levels"),
        "{error}"
    );
}

#[test]
fn schema_validation_of_the_deepest_readable_sbom_does_not_overflow() {
    // Components nested in components as deep as JSON's bound allows (two levels each), which
    // the CycloneDX schema validates recursively.
    let dir = tempfile::tempdir().unwrap();
    let mut component = json!({"type": "library", "name": "leaf", "bom-ref": "c0"});
    for i in 1..62 {
        component = json!({"type": "library", "name": format!("c{i}"), "bom-ref": format!("c{i}"), "components": [component]});
    }
    let bom = write(
        &json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [component]}),
        &dir.path().join("deep.cdx.json"),
    );
    let out = run(&["sbom", "validate", path_str(&bom)], 0);
    assert!(out.starts_with("OK: "), "{out}");
    let diff = run(&["sbom", "diff", path_str(&bom), path_str(&bom)], 0);
    assert!(diff.contains("no differences"), "{diff}");
}

#[test]
fn diff_matches_ancestors_by_digest_not_by_a_purl_from_base_model() {
    let dir = tempfile::tempdir().unwrap();
    let (model, registry) = tutorial_model(dir.path());
    for format in ["cyclonedx", "spdx"] {
        let named = generate(&[path_str(&model), "--format", format], &registry);
        // The same lineage, without the card's base_model: no purl for the ancestor.
        let mut unnamed = named.clone();
        let ancestor_digest = if format == "cyclonedx" {
            let ancestor = &mut unnamed["metadata"]["component"]["pedigree"]["ancestors"][0];
            let ancestor = ancestor.as_object_mut().unwrap();
            assert!(ancestor.remove("purl").is_some());
            ancestor.remove("externalReferences");
            ancestor["hashes"][0]["content"]
                .as_str()
                .unwrap()
                .to_string()
        } else {
            let graph = unnamed["@graph"].as_array_mut().unwrap();
            let ancestor = graph
                .iter_mut()
                .find(|e| e["type"] == "ai_AIPackage" && e.get("software_packageUrl").is_some())
                .unwrap()
                .as_object_mut()
                .unwrap();
            ancestor.remove("software_packageUrl");
            ancestor.remove("software_downloadLocation");
            ancestor["verifiedUsing"][0]["hashValue"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let a = write(&named, &dir.path().join(format!("named.{format}.json")));
        let b = write(&unnamed, &dir.path().join(format!("unnamed.{format}.json")));
        let same = run(&["sbom", "diff", path_str(&a), path_str(&b)], 0);
        assert!(same.contains("no differences"), "{format}\n{same}");

        // Another ancestor under the same Hub id is another ancestor.
        let mut other = named.clone();
        let replaced = other.to_string().replace(&ancestor_digest, &"0".repeat(64));
        other = json(&replaced);
        let c = write(&other, &dir.path().join(format!("other.{format}.json")));
        let diff = run(&["sbom", "diff", path_str(&a), path_str(&c)], 1);
        assert!(
            diff.contains("removed   model openai-community/gpt2")
                && diff.contains("added     model openai-community/gpt2"),
            "{format}\n{diff}"
        );
    }
}
