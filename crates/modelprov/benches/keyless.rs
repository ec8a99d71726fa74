//! Keyless (Fulcio + Rekor) Sigstore verification, in process, offline against the embedded
//! production root: (a) the one real keyless OMS model signature (model_signing 1.1.0's
//! `v1.1.0-sigstore` test signature), signature verification only (no hashing of the model's
//! files: `verify_bundle` on the bundle, read and parsed once), median of 200 runs; (b) the
//! sigstore-conformance happy-path v0.3 bundle over `a.txt` verified 1,000 times one after
//! another, reading the bundle text and the artifact each time (`verify_artifact_bundle`), total
//! and per bundle.
//!
//! Run: `cargo bench -p modelprov --bench keyless`. `benches/keyless_bench.py` runs it and
//! compares it with model_signing and sigstore-python; it reads the `RESULT` lines.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use modelprov::attest::read_bundle;
use modelprov::evidence::Signed;
use modelprov::signing::{TrustedSigner, verify_artifact_bundle, verify_bundle};
use modelprov::sigstore::{IdentityMatch, KeylessIdentity, TrustRoot};

const MODEL_RUNS: usize = 200;
const FILE_BUNDLES: usize = 1_000;

const OMS_IDENTITY: &str = "stefanb@us.ibm.com";
const OMS_ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";
const FILE_IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const FILE_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn keyless(identity: &str, issuer: &str) -> KeylessIdentity {
    KeylessIdentity {
        identity: IdentityMatch::Exact(identity.into()),
        issuer: issuer.into(),
        root: TrustRoot::production(),
    }
}

fn model_signature() {
    let signature = workspace()
        .join("crates/modelprov-cli/tests/fixtures/oms-history/cases/py-v1.1.0-sigstore/model.sig");
    let bundle = read_bundle(&signature).expect("read the OMS signature");
    let signer = keyless(OMS_IDENTITY, OMS_ISSUER);
    // One untimed run: the embedded root parsed, the caches warm.
    verify_bundle(&bundle, TrustedSigner::Keyless(&signer), &signature)
        .expect("the OMS signature verifies");
    let samples = (0..MODEL_RUNS)
        .map(|_| {
            let start = Instant::now();
            let verified = verify_bundle(&bundle, TrustedSigner::Keyless(&signer), &signature)
                .expect("the OMS signature verifies");
            let took = start.elapsed();
            std::hint::black_box(verified);
            took
        })
        .collect::<Vec<_>>();
    let min = *samples.iter().min().expect("samples");
    let med = median(samples);
    println!(
        "keyless OMS model signature (verify_bundle, no hashing): median {:.3} ms, min {:.3} ms over {MODEL_RUNS} runs",
        ms(med),
        ms(min)
    );
    println!("RESULT model_signature_ms {:.4}", ms(med));
}

fn file_bundles() {
    let conformance = workspace().join("../shared/sigstore-conformance/bundle-verify");
    let bundle_path = conformance.join("happy-path-v0.3/bundle.sigstore.json");
    let artifact = conformance.join("a.txt");
    if !bundle_path.is_file() {
        println!(
            "file bundles: skipped, {} is missing",
            bundle_path.display()
        );
        return;
    }
    let signer = keyless(FILE_IDENTITY, FILE_ISSUER);
    let verify = || {
        let text = std::fs::read_to_string(&bundle_path).expect("read the bundle");
        verify_artifact_bundle(
            &text,
            &bundle_path,
            Signed::File(&artifact),
            TrustedSigner::Keyless(&signer),
        )
        .expect("the conformance bundle verifies")
    };
    std::hint::black_box(verify());
    let start = Instant::now();
    for _ in 0..FILE_BUNDLES {
        std::hint::black_box(verify());
    }
    let total = start.elapsed();
    println!(
        "{FILE_BUNDLES} keyless file bundles (bundle and artifact read each time): {:.1} ms total, {:.3} ms per bundle",
        ms(total),
        ms(total) / FILE_BUNDLES as f64
    );
    println!("RESULT file_bundles_total_ms {:.3}", ms(total));
    println!(
        "RESULT file_bundle_ms {:.4}",
        ms(total) / FILE_BUNDLES as f64
    );
}

fn main() {
    model_signature();
    file_bundles();
}
