#!/usr/bin/env python3
"""Keyless Sigstore verification benchmark: modelprov against model_signing 1.1.1 and
sigstore-python 4.x, side by side in one run, offline, with warm caches.

    benches/keyless_bench.py [--venv DIR] [--runs N] [--api-runs N] [--bundles N]
                             [--sigstore-cli-runs N] [--conformance DIR]

Workloads (all real bundles, verified offline against the Sigstore public-good production root):
  model signature  the keyless OMS signature model_signing 1.1.0 made over its `v1.1.0-sigstore`
                   test model (crates/modelprov-cli/tests/fixtures/oms-history/cases/
                   py-v1.1.0-sigstore); model_signing reads the root from the fixture client
                   trust config (trust/public-good-client-trust-config.json), modelprov uses its
                   embedded one.
  file bundles     the sigstore-conformance happy-path v0.3 bundle over a.txt (DIR, default
                   ../shared/sigstore-conformance/bundle-verify), verified N times (default
                   1,000) one after another.

Measured:
  - whole processes: `modelprov verify` (release binary) vs `model_signing verify sigstore
    --trust_config`, median of N runs (default 10);
  - in process: `cargo bench -p modelprov --bench keyless` (verify_bundle on the parsed bundle,
    no hashing, median of 200; and 1,000 file bundles, bundle text and artifact read each time)
    vs model_signing's API (Config().use_sigstore_verifier(trust_config=...): the signature
    verifier alone, `Config._verifier.verify(signature)`, which like verify_bundle checks the
    signature and parses the manifest without hashing; and the whole `Config.verify`, which also
    hashes the two 8-byte model files), median of --api-runs (default 200); and
    sigstore-python's `Verifier(trusted_root=...).verify_artifact` over N file bundles (bundle
    parsed and artifact read each time);
  - N `modelprov verify` processes over the file bundle (total) vs `sigstore --trust-config
    ... verify identity --offline`: --sigstore-cli-runs processes (default 20), median
    extrapolated to N (marked "extrapolated").

Builds modelprov in release mode first (cargo build --release -p modelprov-cli). Uses the venv
with model-signing 1.1.1 (default target/interop-venv here or in /work/main; it is only read).
Every command is run once untimed first (warm page cache and Python bytecode caches). Prints a
table of medians and the ratios other tool / modelprov. Exit status 0 unless a tool fails.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "crates/modelprov-cli/tests/fixtures/oms-history/cases/py-v1.1.0-sigstore"
TRUST_CONFIG = ROOT / "crates/modelprov-cli/tests/fixtures/oms-history/trust/public-good-client-trust-config.json"
FILE_IDENTITY = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
                 ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main")
FILE_ISSUER = "https://token.actions.githubusercontent.com"

# Runs inside the model_signing venv: prints one JSON object of millisecond figures.
PYTHON_API = r"""
import json, pathlib, statistics, sys, time
import model_signing
from model_signing._signing import sign_sigstore
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy

args = json.loads(sys.argv[1])
model, sig, trust = pathlib.Path(args["model"]), pathlib.Path(args["signature"]), pathlib.Path(args["trust"])
runs, bundles = args["runs"], args["bundles"]
out = {}

config = model_signing.verifying.Config().use_sigstore_verifier(
    identity=args["identity"], oidc_issuer=args["issuer"], trust_config=trust)
signature = sign_sigstore.Signature.read(sig)
config._verifier.verify(signature)  # warm
samples = []
for _ in range(runs):
    start = time.perf_counter()
    config._verifier.verify(signature)
    samples.append(time.perf_counter() - start)
out["model_verifier_ms"] = statistics.median(samples) * 1e3

config.verify(model, sig)  # warm (and fixes the guessed hashing config)
samples = []
for _ in range(runs):
    start = time.perf_counter()
    config.verify(model, sig)
    samples.append(time.perf_counter() - start)
out["model_config_verify_ms"] = statistics.median(samples) * 1e3

bundle_path, artifact = pathlib.Path(args["bundle"]), pathlib.Path(args["artifact"])
root = ClientTrustConfig.from_json(trust.read_text()).trusted_root
verifier = Verifier(trusted_root=root)
identity = policy.Identity(identity=args["file_identity"], issuer=args["file_issuer"])
def verify_file():
    bundle = Bundle.from_json(bundle_path.read_bytes())
    verifier.verify_artifact(input_=artifact.read_bytes(), bundle=bundle, policy=identity)
verify_file()  # warm
start = time.perf_counter()
for _ in range(bundles):
    verify_file()
out["file_bundles_total_ms"] = (time.perf_counter() - start) * 1e3
print(json.dumps(out))
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_quiet(command, cwd=ROOT):
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        log(f"FAILED ({done.returncode}): {' '.join(map(str, command))}\n{done.stdout}{done.stderr}")
        sys.exit(1)
    return done.stdout


def time_process(command, runs):
    """Median wall time in ms of `runs` runs, after one untimed warm-up run."""
    run_quiet(command)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        run_quiet(command)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e3


def time_process_total(command, count):
    """Total wall time in ms of `count` runs one after another, after one untimed run."""
    run_quiet(command)
    start = time.perf_counter()
    for _ in range(count):
        run_quiet(command)
    return (time.perf_counter() - start) * 1e3


def find_venv(given):
    candidates = [Path(given)] if given else [ROOT / "target/interop-venv", Path("/work/main/target/interop-venv")]
    for venv in candidates:
        if (venv / "bin/python").exists():
            return venv
    log(f"no model_signing venv in {', '.join(map(str, candidates))}")
    sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", help="venv with model-signing 1.1.1 (default: target/interop-venv)")
    parser.add_argument("--runs", type=int, default=10, help="whole-process runs per tool (median)")
    parser.add_argument("--api-runs", type=int, default=200, help="in-process model signature verifies (median)")
    parser.add_argument("--bundles", type=int, default=1000, help="file bundles verified one after another")
    parser.add_argument("--sigstore-cli-runs", type=int, default=20,
                        help="`sigstore verify identity` processes, extrapolated to --bundles")
    parser.add_argument("--conformance", default=str(ROOT.parent / "shared/sigstore-conformance/bundle-verify"))
    args = parser.parse_args()

    venv = find_venv(args.venv)
    conformance = Path(args.conformance).resolve()
    bundle, artifact = conformance / "happy-path-v0.3/bundle.sigstore.json", conformance / "a.txt"
    case = json.loads((CASE / "case.json").read_text())
    model, signature = CASE / case["model_path"], CASE / case["signature"]
    identity, issuer = case["identity"], case["issuer"]

    log("building modelprov (release) ...")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "modelprov-cli"], cwd=ROOT, check=True)
    modelprov = ROOT / "target/release/modelprov"

    log("cargo bench -p modelprov --bench keyless ...")
    rust = {}
    bench_out = run_quiet(["cargo", "bench", "--locked", "-q", "-p", "modelprov", "--bench", "keyless"])
    for line in bench_out.splitlines():
        if line.startswith("RESULT "):
            _, key, value = line.split()
            rust[key] = float(value)
        else:
            log(f"  {line}")
    if "file_bundles_total_ms" in rust and args.bundles != 1000:
        rust["file_bundles_total_ms"] *= args.bundles / 1000  # the Rust bench always runs 1,000

    log(f"model_signing / sigstore-python API in one process ({venv}) ...")
    api_args = {
        "model": str(model), "signature": str(signature), "trust": str(TRUST_CONFIG),
        "identity": identity, "issuer": issuer, "runs": args.api_runs, "bundles": args.bundles,
        "bundle": str(bundle), "artifact": str(artifact),
        "file_identity": FILE_IDENTITY, "file_issuer": FILE_ISSUER,
    }
    py = json.loads(run_quiet([venv / "bin/python", "-c", PYTHON_API, json.dumps(api_args)]).strip().splitlines()[-1])

    log("whole processes ...")
    mp_model = [modelprov, "verify", "-q", model, "--signature", signature, "--identity", identity, "--issuer", issuer]
    ms_model = [venv / "bin/model_signing", "verify", "sigstore", model, "--signature", signature,
                "--identity", identity, "--identity_provider", issuer, "--trust_config", TRUST_CONFIG]
    mp_file = [modelprov, "verify", "-q", artifact, "--signature", bundle, "--identity", FILE_IDENTITY,
               "--issuer", FILE_ISSUER]
    ss_file = [venv / "bin/sigstore", "--trust-config", TRUST_CONFIG, "verify", "identity", "--offline",
               "--bundle", bundle, "--cert-identity", FILE_IDENTITY, "--cert-oidc-issuer", FILE_ISSUER, artifact]
    proc = {
        "mp_model": time_process(mp_model, args.runs),
        "ms_model": time_process(ms_model, args.runs),
        "mp_files": time_process_total(mp_file, args.bundles),
        "ss_file": time_process(ss_file, args.sigstore_cli_runs),
    }

    def ratio(other, ours):
        return f"{other / ours:8.1f}x" if ours else "      -"

    n = args.bundles
    rows = [
        ("model signature, whole process (median of %d)" % args.runs,
         proc["mp_model"], "model_signing verify sigstore", proc["ms_model"]),
        ("model signature, in process, verify only (median)",
         rust.get("model_signature_ms", 0.0), "model_signing Config._verifier.verify", py["model_verifier_ms"]),
        ("model signature, in process (Python: + hashing 2 tiny files)",
         rust.get("model_signature_ms", 0.0), "model_signing Config.verify", py["model_config_verify_ms"]),
        (f"{n} file bundles, in process, total",
         rust.get("file_bundles_total_ms", 0.0), "sigstore Verifier.verify_artifact", py["file_bundles_total_ms"]),
        ("  per file bundle, in process",
         rust.get("file_bundles_total_ms", 0.0) / n, "sigstore Verifier.verify_artifact", py["file_bundles_total_ms"] / n),
        (f"{n} file bundles, one process each, total",
         proc["mp_files"], f"sigstore verify identity --offline (extrapolated from {args.sigstore_cli_runs})",
         proc["ss_file"] * n),
        ("  per file bundle process",
         proc["mp_files"] / n, "sigstore verify identity --offline (median)", proc["ss_file"]),
    ]
    print()
    print(f"{'workload':<62} {'modelprov ms':>13}  {'other ms':>12}  {'other/modelprov':>15}  other tool")
    for label, ours, tool, other in rows:
        print(f"{label:<62} {ours:13.3f}  {other:12.3f}  {ratio(other, ours):>15}  {tool}")
    print()
    print(f"(offline, warm caches, {os.cpu_count()} cores; modelprov's in-process figures from "
          "`cargo bench -p modelprov --bench keyless`; Python figures from one process each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
