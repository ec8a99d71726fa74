#!/usr/bin/env python3
"""Scanning large model files: modelprov scan next to picklescan and modelscan, and the time to
read the whole file once (cat > /dev/null) for scale.

- torch4g: a 4 GB torch zip checkpoint, a real torch zip layout (archive/data.pkl + four 1 GB
  storages, stored), written here without torch.
- joblib1g: a 1 GB joblib dump (one float32 array of normal noise, as trained weights look),
  written by the venv's joblib with `compress=3` (joblib's zlib format), so every scanner has to
  decompress the whole gigabyte.

Usage: python3 benches/scan_bench.py [--runs N] [--venv target/interop-venv] [--case torch4g|joblib1g|all]
Prints medians of N runs (default 3), warm page cache, and the ratios.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "target", "bench-data")
CHECKPOINT = os.path.join(DATA, "scan-4g.pt")
JOBLIB = os.path.join(DATA, "scan-1g-zlib.joblib")
GB = 1_000_000_000


def state_dict_pickle(storages):
    """OrderedDict of _rebuild_tensor_v2(persistent storage, ...), written opcode by opcode."""
    out = bytearray(b"\x80\x02ccollections\nOrderedDict\n)Rq\x00(")
    for i in range(storages):
        key = f"layer{i}.weight".encode()
        out += b"\x8c" + bytes([len(key)]) + key
        out += b"ctorch._utils\n_rebuild_tensor_v2\n(("
        out += b"\x8c\x07storagectorch\nFloatStorage\n"
        name = str(i).encode()
        out += b"\x8c" + bytes([len(name)]) + name + b"\x8c\x03cpu"
        out += b"J" + (GB // 4).to_bytes(4, "little") + b"tQ"
        out += b"K\x00J" + (GB // 4).to_bytes(4, "little") + b"\x85K\x01\x85\x89ccollections\nOrderedDict\n)Rtq" + bytes([i + 1]) + b"R"
    out += b"u."
    return bytes(out)


def build():
    if os.path.exists(CHECKPOINT) and os.path.getsize(CHECKPOINT) > 4 * GB:
        return
    os.makedirs(DATA, exist_ok=True)
    chunk = b"\x00" * (64 << 20)
    with zipfile.ZipFile(CHECKPOINT + ".tmp", "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        archive.writestr("archive/data.pkl", state_dict_pickle(4))
        for i in range(4):
            with archive.open(f"archive/data/{i}", "w", force_zip64=True) as member:
                for _ in range(GB // len(chunk)):
                    member.write(chunk)
                member.write(chunk[: GB % len(chunk)])
        archive.writestr("archive/version", "3\n")
    os.replace(CHECKPOINT + ".tmp", CHECKPOINT)


def build_joblib(venv):
    if os.path.exists(JOBLIB):
        return
    os.makedirs(DATA, exist_ok=True)
    script = (
        "import sys, joblib, numpy as np\n"
        "w = np.random.default_rng(0).standard_normal(250_000_000, dtype=np.float32)\n"
        "joblib.dump({'w': w, 'lr': 0.01, 'names': ['w']}, sys.argv[1], compress=3)\n"
    )
    subprocess.run([os.path.join(venv, "bin", "python"), "-c", script, JOBLIB + ".tmp"], check=True)
    os.replace(JOBLIB + ".tmp", JOBLIB)


def timed(command, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result.returncode


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--venv", default=os.path.join(ROOT, "target", "interop-venv"))
    parser.add_argument("--case", choices=["torch4g", "joblib1g", "all"], default="all")
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "-p", "modelprov-cli"], cwd=ROOT, check=True)
    if args.case in ("torch4g", "all"):
        build()
        size = os.path.getsize(CHECKPOINT)
        compare(f"checkpoint: {size / GB:.2f} GB torch zip (data.pkl + 4 x 1 GB storages)", CHECKPOINT, args)
    if args.case in ("joblib1g", "all"):
        build_joblib(args.venv)
        size = os.path.getsize(JOBLIB)
        compare(f"joblib dump: 1 GB float32 array, compress=3 (zlib), {size / GB:.2f} GB on disk", JOBLIB, args)


def compare(title, path, args):
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    tools = [
        ("read whole file (cat)", ["cat", path]),
        ("modelprov scan", [os.path.join(ROOT, "target", "release", "modelprov"), "scan", path]),
        ("picklescan 1.0.5", [os.path.join(args.venv, "bin", "picklescan"), "-p", path]),
        ("modelscan 0.8.8", [os.path.join(args.venv, "bin", "modelscan"), "-p", path]),
    ]
    print(f"{title}, median of {args.runs} runs, warm cache")
    baseline = None
    for name, command in tools:
        if not os.path.exists(command[0]) and command[0] != "cat":
            print(f"{name:<24} not installed")
            continue
        seconds, code = timed(command, args.runs)
        baseline = baseline or seconds
        print(f"{name:<24} {seconds * 1000:9.1f} ms   exit {code}   {seconds / baseline:6.3f} x reading the file")


if __name__ == "__main__":
    sys.exit(main())
