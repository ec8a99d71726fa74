#!/usr/bin/env python3
"""Hashing benchmark: `modelprov hash` against `openssl dgst -sha256` (one core), `sha256sum`
and the reference `model_signing sign key`, side by side in one run, on the same warm files.

    benches/hash_bench.py [--data DIR] [--runs N]

Generates (once; reused by later runs) under DIR (default target/bench-data):
  four-1g/    four 1 GB files plus 16 small files
  one-4g/     one 4 GB file plus 3 small files
  small-10k/  10,000 files of 4 KiB
builds modelprov in release mode, installs model-signing 1.1.1 + pyOpenSSL in DIR/venv, warms
the page cache (checked with fincore), runs every tool N times (median reported) and prints the
ratios against the targets of the integrity issue. Needs about 8.1 GB of disk and as much free
page cache, GNU time (/usr/bin/time, Debian package `time`) and fincore (util-linux). Exit
status 1 if a target is missed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GB = 1_000_000_000
ROOT = Path(__file__).resolve().parent.parent
RSS_LIMIT_MIB = 64


def log(message):
    print(message, file=sys.stderr, flush=True)


def write_file(path, size, seed):
    """Incompressible bytes: one random block, varied per block so no two blocks repeat."""
    block = bytearray(os.urandom(64 << 20))
    with open(path, "wb") as out:
        written, counter = 0, seed * 1_000_000
        while written < size:
            counter += 1
            block[:8] = counter.to_bytes(8, "little")
            piece = memoryview(block)[: min(len(block), size - written)]
            out.write(piece)
            written += len(piece)


def small_files(folder, count, size, prefix=""):
    for index in range(count):
        sub = folder / f"{prefix}{index // 1000:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{index:05d}.bin").write_bytes(os.urandom(size))


def generate(data):
    workloads = {
        "four-1g": (data / "four-1g", lambda f: ([write_file(f / f"model-{i}.safetensors", GB, i) for i in range(4)],
                                                 small_files(f / "extra", 16, 2048))),
        "one-4g": (data / "one-4g", lambda f: (write_file(f / "model.safetensors", 4 * GB, 9),
                                               (f / "config.json").write_text('{"hidden_size": 4096}\n'),
                                               (f / "tokenizer.json").write_text('{"version": "1.0"}\n'),
                                               (f / "README.md").write_text("# bench model\n"))),
        "small-10k": (data / "small-10k", lambda f: small_files(f, 10_000, 4096)),
    }
    for name, (folder, make) in workloads.items():
        done = folder / ".complete"
        if done.exists():
            continue
        log(f"generating {name} ...")
        folder.mkdir(parents=True, exist_ok=True)
        make(folder)
        done.write_text("")
    return {name: folder for name, (folder, _) in workloads.items()}


def files_of(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != ".complete")


def warm(files):
    """Reads every file and checks with fincore that all of it is in the page cache."""
    for path in files:
        with open(path, "rb") as f:
            while f.read(8 << 20):
                pass
    total = sum(p.stat().st_size for p in files)
    resident = 0
    for start in range(0, len(files), 2000):
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "--output", "RES",
                              *map(str, files[start:start + 2000])],
                             check=True, capture_output=True, text=True).stdout
        resident += sum(int(line) for line in out.split())
    return resident / total if total else 1.0


def run(command):
    """Runs a command; returns (seconds, peak RSS in MiB). Fails loudly on a non-zero exit.

    Peak RSS comes from GNU time: the rusage of a child forked from this Python process would
    include the parent's memory it inherited before exec."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        status = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *map(str, command)],
                                stdout=out, stderr=out).returncode
        seconds = time.perf_counter() - start
        if status != 0:
            out.seek(0)
            sys.exit(f"failed: {' '.join(map(str, command))}\n{out.read().decode(errors='replace')}")
        return seconds, int(rss.read().split()[-1]) / 1024


def measure(label, command, runs, results, size):
    times, rss = [], 0.0
    for _ in range(runs):
        seconds, peak = run(command)
        times.append(seconds)
        rss = max(rss, peak)
    median = statistics.median(times)
    results[label] = (median, rss)
    rate = f"{size / median / GB:7.2f} GB/s" if size else ""
    log(f"  {label:<34} {median:8.3f} s  {rate}  peak RSS {rss:6.1f} MiB   runs: "
        + " ".join(f"{t:.3f}" for t in times))
    return median


def setup_reference(data):
    venv = data / "venv"
    tool = venv / "bin" / "model_signing"
    if not tool.exists():
        log("installing model-signing 1.1.1 + pyOpenSSL ...")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([venv / "bin" / "pip", "install", "-q", "model-signing==1.1.1", "pyOpenSSL"], check=True)
    key = data / "p256.pem"
    if not key.exists():
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-out", str(key)], check=True)
    return tool, key


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "target" / "bench-data")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = args.data.resolve()
    data.mkdir(parents=True, exist_ok=True)

    log("building modelprov (release) ...")
    subprocess.run(["cargo", "build", "--release", "--locked", "-q", "-p", "modelprov-cli"], cwd=ROOT, check=True)
    modelprov = str(ROOT / "target" / "release" / "modelprov")
    reference, key = setup_reference(data)
    folders = generate(data)
    signature = str(data / "bench.sig")
    cache = data / "cache.sqlite3"
    results, checks = {}, []

    def check(description, ok, detail):
        checks.append((description, ok, detail))

    for name in ["four-1g", "one-4g", "small-10k"]:
        folder = folders[name]
        files = files_of(folder)
        size = sum(p.stat().st_size for p in files)
        cached = warm(files)
        log(f"\n{name}: {len(files)} files, {size / GB:.3f} GB, {cached:.1%} in page cache")
        paths = list(map(str, files))
        r = {}
        r["openssl"] = measure(f"{name} openssl dgst -sha256 (1 core)", ["openssl", "dgst", "-sha256", *paths], args.runs, results, size)
        r["sha256sum"] = measure(f"{name} sha256sum", ["sha256sum", *paths], args.runs, results, size)
        r["reference"] = measure(f"{name} model_signing sign key", [str(reference), "sign", "key", str(folder),
                                 "--private_key", str(key), "--signature", signature], args.runs, results, size)
        r["sha256"] = measure(f"{name} modelprov sha256 files", [modelprov, "hash", str(folder), "-q"], args.runs, results, size)
        r["shards"] = measure(f"{name} modelprov sha256 shards 1e9", [modelprov, "hash", str(folder), "-q", "--shard-size"], args.runs, results, size)
        r["blake3"] = measure(f"{name} modelprov blake3", [modelprov, "hash", str(folder), "-q", "-a", "blake3"], args.runs, results, size)

        if name == "four-1g":
            check("four-1g: sha256 files >= 1.8x single-core openssl", r["openssl"] / r["sha256"] >= 1.8,
                  f"{r['openssl'] / r['sha256']:.2f}x")
            check("four-1g: sha256 files faster than model_signing", r["reference"] / r["sha256"] > 1.0,
                  f"{r['reference'] / r['sha256']:.2f}x")
            check("four-1g: blake3 >= 4x single-core openssl sha256", r["openssl"] / r["blake3"] >= 4.0,
                  f"{r['openssl'] / r['blake3']:.2f}x")
        if name == "one-4g":
            check("one-4g: sha256 shards >= 1.8x single-core openssl", r["openssl"] / r["shards"] >= 1.8,
                  f"{r['openssl'] / r['shards']:.2f}x")
            # Incremental: fill the cache, then change one small file before each timed run.
            cache.unlink(missing_ok=True)
            command = [modelprov, "hash", str(folder), "-q", "--shard-size", "--cache-file", str(cache)]
            run(command)
            times, rss = [], 0.0
            for index in range(max(args.runs, 3)):
                (folder / "config.json").write_text(f'{{"hidden_size": 4096, "edit": {index}}}\n')
                seconds, peak = run(command)
                times.append(seconds)
                rss = max(rss, peak)
            incremental = statistics.median(times)
            results[f"{name} modelprov incremental (--cache)"] = (incremental, rss)
            log(f"  {'one-4g modelprov incremental':<34} {incremental:8.3f} s  after editing config.json, "
                f"peak RSS {rss:6.1f} MiB   runs: " + " ".join(f"{t:.3f}" for t in times))
            fresh = subprocess.run(command[:-2], capture_output=True, text=True, check=True).stdout
            again = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            check("one-4g: incremental digest equals a full re-hash", fresh == again, fresh.strip())
            check("one-4g: incremental re-hash >= 50x faster than full (sha256 shards)",
                  r["shards"] / incremental >= 50, f"{r['shards'] / incremental:.0f}x")
        if name == "small-10k":
            check("small-10k: sha256 >= 5x faster than model_signing", r["reference"] / r["sha256"] >= 5.0,
                  f"{r['reference'] / r['sha256']:.2f}x")

    worst = max(rss for label, (_, rss) in results.items() if "modelprov" in label)
    reference_rss = max(rss for label, (_, rss) in results.items() if "model_signing" in label)
    check(f"peak RSS of every modelprov run < {RSS_LIMIT_MIB} MiB", worst < RSS_LIMIT_MIB,
          f"{worst:.1f} MiB (model_signing: {reference_rss:.1f} MiB)")

    print("\ntarget                                                          ratio      result")
    for description, ok, detail in checks:
        print(f"{description:<64} {detail:<10} {'PASS' if ok else 'MISS'}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
