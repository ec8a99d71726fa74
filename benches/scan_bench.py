#!/usr/bin/env python3
"""Scanning a 4 GB torch zip checkpoint: modelprov scan next to picklescan and modelscan, and the
time to read the whole file once (cat > /dev/null) for scale. The checkpoint is a real torch zip
layout (archive/data.pkl + four 1 GB storages, stored), written here without torch.
Then a folder of 10,000 small files (small state-dict pickles, JSON configs, .npy arrays in 100
subfolders), where per-file costs (process start, walking, opening) dominate.

Usage: python3 benches/scan_bench.py [--runs N] [--venv target/interop-venv] [--only checkpoint|folder]
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


FOLDER = os.path.join(DATA, "scan-10k-files")
FOLDER_FILES = 10_000


def build_folder():
    """10,000 small files: a third each of state-dict pickles, JSON configs and float32 .npy."""
    done = FOLDER + ".complete"  # beside the folder, not a file in it
    if os.path.exists(done):
        return
    pickle = state_dict_pickle(1)
    npy_header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (16,), }"
    npy_header += b" " * (117 - len(npy_header)) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + len(npy_header).to_bytes(2, "little") + npy_header + b"\x00" * 64
    for i in range(FOLDER_FILES):
        sub = os.path.join(FOLDER, f"part{i // 100:03}")
        os.makedirs(sub, exist_ok=True)
        name, content = [
            (f"weights{i}.pt", pickle),
            (f"config{i}.json", b'{"hidden_size": 16, "layers": 2}'),
            (f"array{i}.npy", npy),
        ][i % 3]
        with open(os.path.join(sub, name), "wb") as out:
            out.write(content)
    open(done, "w").close()


def compare(tools, runs, baseline_name):
    baseline = None
    for name, command in tools:
        if not os.path.exists(command[0]) and command[0] != "cat":
            print(f"{name:<24} not installed")
            continue
        seconds, code = timed(command, runs)
        baseline = baseline or seconds
        print(f"{name:<24} {seconds * 1000:9.1f} ms   exit {code}   {seconds / baseline:6.3f} x {baseline_name}")


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
    parser.add_argument("--only", choices=["checkpoint", "folder"])
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "-p", "modelprov-cli"], cwd=ROOT, check=True)
    modelprov = os.path.join(ROOT, "target", "release", "modelprov")
    picklescan = os.path.join(args.venv, "bin", "picklescan")
    modelscan = os.path.join(args.venv, "bin", "modelscan")
    if args.only in (None, "checkpoint"):
        build()
        size = os.path.getsize(CHECKPOINT)
        subprocess.run(["cat", CHECKPOINT], stdout=subprocess.DEVNULL, check=True)  # warm the cache
        print(f"checkpoint: {size / GB:.2f} GB torch zip (data.pkl + 4 x 1 GB storages), median of {args.runs} runs, warm cache")
        compare([
            ("read whole file (cat)", ["cat", CHECKPOINT]),
            ("modelprov scan", [modelprov, "scan", CHECKPOINT]),
            ("picklescan 1.0.5", [picklescan, "-p", CHECKPOINT]),
            ("modelscan 0.8.8", [modelscan, "-p", CHECKPOINT]),
        ], args.runs, "reading the file")
    if args.only in (None, "folder"):
        build_folder()
        files = [os.path.join(d, f) for d, _, names in os.walk(FOLDER) for f in names]
        subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # warm the cache
        print(f"folder: {FOLDER_FILES} small files (pickles, JSON, .npy) in 100 subfolders, median of {args.runs} runs, warm cache")
        compare([
            ("modelprov scan", [modelprov, "scan", "-q", FOLDER]),
            ("picklescan 1.0.5", [picklescan, "-p", FOLDER]),
            ("modelscan 0.8.8", [modelscan, "-p", FOLDER]),
        ], args.runs, "modelprov")


if __name__ == "__main__":
    sys.exit(main())
