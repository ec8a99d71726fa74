#!/usr/bin/env python3
"""Python API benchmark: `modelprov.hash` against `model_signing.hashing.Config().hash`, both
called from Python in the same process, on the same warm files, side by side in one run.

    benches/python_hash_bench.py [--data DIR] [--runs N] [--workloads four-1g,small-10k]

Uses the workloads of benches/hash_bench.py (generated under DIR, default target/bench-data),
builds the modelprov wheel in release mode with maturin into DIR/py-venv beside
model-signing 1.1.1 (+ pyOpenSSL), checks that both tools give the same root digest, and prints
the median of N runs and the ratio per workload, for SHA-256 and for BLAKE3 (whole files, as
model_signing's `use_file_serialization(hashing_algorithm=...)` hashes them). Exit status 1 if
the digests disagree.
"""

import argparse
import hashlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hash_bench  # noqa: E402  (the shared workload generator and page-cache warmer)

ROOT = hash_bench.ROOT
IN_VENV = "--in-venv"


def setup(data: Path) -> Path:
    venv = data / "py-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "maturin==1.16.0",
                        "model-signing==1.1.1", "pyOpenSSL==26.4.0"], check=True)
    hash_bench.log("building the modelprov wheel (release) ...")
    wheels = data / "wheels"
    subprocess.run([str(venv / "bin" / "maturin"), "build", "--quiet", "--release", "-m",
                    str(ROOT / "bindings/python/Cargo.toml"), "--out", str(wheels)], check=True)
    wheel = max(wheels.glob("modelprov-*.whl"), key=lambda p: p.stat().st_mtime)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--force-reinstall",
                    "--no-deps", str(wheel)], check=True)
    return python


def root_digest(manifest) -> str:
    """model_signing's subject digest: SHA-256 over the resource digests in order."""
    hasher = hashlib.sha256()
    for descriptor in manifest.resource_descriptors():
        hasher.update(descriptor.digest.digest_value)
    return "sha256:" + hasher.hexdigest()


def bench_in_venv(folders: list[str], runs: int) -> int:
    import model_signing
    import modelprov

    failed = 0
    print("| workload | model_signing.hashing sha256 | modelprov.hash sha256 | ratio "
          "| model_signing blake3 | modelprov blake3 | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for folder in map(Path, folders):
        timings = {"model_signing": [], "modelprov": [], "ms_blake3": [], "blake3": []}
        digests = {}
        for _ in range(runs):
            start = time.perf_counter()
            # model_signing hashes README.md with the model; so does ignore_card=False.
            digests["model_signing"] = root_digest(model_signing.hashing.Config().hash(folder))
            timings["model_signing"].append(time.perf_counter() - start)
            start = time.perf_counter()
            digests["modelprov"] = modelprov.hash(folder, ignore_card=False).digest
            timings["modelprov"].append(time.perf_counter() - start)
            config = model_signing.hashing.Config().use_file_serialization(hashing_algorithm="blake3")
            start = time.perf_counter()
            digests["ms_blake3"] = root_digest(config.hash(folder))
            timings["ms_blake3"].append(time.perf_counter() - start)
            start = time.perf_counter()
            digests["blake3"] = modelprov.hash(folder, ignore_card=False, algorithm="blake3").digest
            timings["blake3"].append(time.perf_counter() - start)
        theirs = statistics.median(timings["model_signing"])
        ours = statistics.median(timings["modelprov"])
        blake3 = statistics.median(timings["blake3"])
        their_blake3 = statistics.median(timings["ms_blake3"])
        same = (digests["model_signing"] == digests["modelprov"]
                and digests["ms_blake3"] == digests["blake3"])
        failed |= not same
        print(f"| {folder.name} | {theirs:.2f} s | {ours:.2f} s | {theirs / ours:.1f}× "
              f"| {their_blake3:.2f} s | {blake3:.2f} s | {their_blake3 / blake3:.1f}× "
              f"{'(same digests)' if same else 'DIGESTS DIFFER'} |", flush=True)
    return 1 if failed else 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == IN_VENV:
        return bench_in_venv(sys.argv[3:], int(sys.argv[2]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / "target/bench-data")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default="four-1g,small-10k")
    args = parser.parse_args()
    folders = hash_bench.generate(args.data)
    chosen = [folders[name] for name in args.workloads.split(",")]
    python = setup(args.data)
    for folder in chosen:
        resident = hash_bench.warm(hash_bench.files_of(folder))
        hash_bench.log(f"{folder.name}: {resident:.0%} in the page cache")
    return subprocess.run([str(python), __file__, IN_VENV, str(args.runs),
                           *map(str, chosen)]).returncode


if __name__ == "__main__":
    sys.exit(main())
