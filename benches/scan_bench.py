#!/usr/bin/env python3
"""Scanning large model files: modelprov scan next to picklescan and modelscan, and the time to
read the whole file once (cat > /dev/null) for scale.

- torch4g: a 4 GB torch zip checkpoint, a real torch zip layout (archive/data.pkl + four 1 GB
  storages, stored), written here without torch.
- joblib1g: a 1 GB joblib dump (one float32 array of normal noise, as trained weights look),
  written by the venv's joblib with `compress=3` (joblib's zlib format): a scanner has to
  decompress the whole gigabyte to see the pickle.
- folder: 10,000 small files (small state-dict pickles, JSON configs, .npy arrays in 100
  subfolders), where per-file costs (process start, walking, opening) dominate.

Usage: python3 benches/scan_bench.py [--runs N] [--venv target/interop-venv] [--case torch4g|joblib1g|folder|all]
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
FOLDER = os.path.join(DATA, "scan-10k-files")
FOLDER_FILES = 10_000
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
    parser.add_argument("--case", choices=["torch4g", "joblib1g", "folder", "all"], default="all")
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
    if args.case in ("folder", "all"):
        build_folder()
        files = [os.path.join(d, f) for d, _, names in os.walk(FOLDER) for f in names]
        subprocess.run(["cat", *files], stdout=subprocess.DEVNULL, check=True)  # warm the cache
        print(f"folder: {FOLDER_FILES} small files (pickles, JSON, .npy) in 100 subfolders, median of {args.runs} runs, warm cache")
        report(tool_commands(FOLDER, args, quiet=True)[1:], args.runs, "modelprov")


def tool_commands(path, args, quiet=False):
    modelprov = [os.path.join(ROOT, "target", "release", "modelprov"), "scan", *(["-q"] if quiet else []), path]
    return [
        ("read whole file (cat)", ["cat", path]),
        ("modelprov scan", modelprov),
        ("picklescan 1.0.5", [os.path.join(args.venv, "bin", "picklescan"), "-p", path]),
        ("modelscan 0.8.8", [os.path.join(args.venv, "bin", "modelscan"), "-p", path]),
    ]


def compare(title, path, args):
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # warm the cache
    print(f"{title}, median of {args.runs} runs, warm cache")
    report(tool_commands(path, args), args.runs, "reading the file")


def report(tools, runs, baseline_name):
    """Each tool's median time and exit code, and its ratio to the first tool's time."""
    baseline = None
    for name, command in tools:
        if not os.path.exists(command[0]) and command[0] != "cat":
            print(f"{name:<24} not installed")
            continue
        seconds, code = timed(command, runs)
        baseline = baseline or seconds
        print(f"{name:<24} {seconds * 1000:9.1f} ms   exit {code}   {seconds / baseline:6.3f} x {baseline_name}")


if __name__ == "__main__":
    sys.exit(main())
