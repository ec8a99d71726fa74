# The other scanners' verdicts on a list of files, for the comparison tables (scan_compare.rs).
#
# Each tool's own command-line entry point is run once per file, exactly as `TOOL ARGS FILE`
# would run it, but inside this one Python process: starting a Python interpreter per file and
# tool took 0.3 s (fickling) to 25 s (modelaudit, retrying telemetry), far over the CI budget.
# The verdict comes from the exit code, by each tool's documented convention:
#   picklescan -p FILE                 0 clean, 1 flagged, 2 error
#   modelscan -p FILE                  0 clean, 1 flagged, 2 error, 3 skipped (no scanner), 4 usage
#   fickling --check-safety FILE       0 clean, 1 flagged, 2 error
#   modelaudit scan --no-cache FILE    0 clean, 1 flagged, 2 error
# Each tool has a time budget (`--budget SECONDS` for its whole run, 20 s at most per file):
# modelaudit resolves the call graph of every referenced module and took 2 s to minutes per
# file, over 6 minutes on the real corpus; files past a tool's budget read "timeout" or
# "over budget", never a verdict.
# Usage: python scanners.py [--budget S] FILE...
#   prints "FILE<TAB>picklescan<TAB>modelscan<TAB>fickling<TAB>modelaudit" per file
import contextlib
import io
import os
import signal
import sys
import time

os.environ.setdefault("PROMPTFOO_DISABLE_TELEMETRY", "1")  # modelaudit: no network in tests
os.environ.setdefault("NO_ANALYTICS", "1")

import fickling.cli  # noqa: E402
import modelaudit.cli  # noqa: E402
import modelscan.cli  # noqa: E402
import picklescan.cli  # noqa: E402

TOOLS = {
    "picklescan": lambda f: _argv_main(picklescan.cli.main, ["picklescan", "-p", f]),
    "modelscan": lambda f: _argv_main(modelscan.cli.main, ["modelscan", "-p", f]),
    "fickling": lambda f: fickling.cli.main(["--check-safety", f]),
    "modelaudit": lambda f: modelaudit.cli.cli.main(
        ["scan", "--no-cache", "--format", "json", f], prog_name="modelaudit"),
}
SKIPPED = {"modelscan": 3}


def _argv_main(main, argv):
    saved = sys.argv
    sys.argv = argv
    try:
        return main()
    finally:
        sys.argv = saved


PER_FILE = 20


class Timeout(BaseException):
    """Raised by the alarm; a BaseException so that the tools' own `except Exception` miss it."""


def _alarm(signum, frame):
    raise Timeout


def exit_code(run, path, seconds=PER_FILE):
    """The exit code `run` ends with: its return value or its SystemExit code."""
    sink = io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(max(1, int(seconds)))
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            code = run(path)
    except SystemExit as e:
        code = e.code
    except Timeout:
        return "timeout"
    except Exception:  # an uncaught exception ends the real CLI with Python's exit code 1...
        return "crash"  # ...which would read as "flagged": name it instead.
    finally:
        signal.alarm(0)
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def verdict(tool, code):
    if code == 0:
        return "clean"
    if code == 1:
        return "flagged"
    if code == SKIPPED.get(tool):
        return "skipped"
    return f"error ({code})" if isinstance(code, int) else code


def main():
    import logging

    logging.disable(logging.CRITICAL)  # the tools log findings to stderr, not wanted in CI logs
    args = sys.argv[1:]
    budget = float("inf")
    if args[:1] == ["--budget"]:
        budget, args = float(args[1]), args[2:]
    columns = []
    for tool, run in TOOLS.items():
        end = time.monotonic() + budget
        column = []
        for path in args:
            left = end - time.monotonic()
            if left <= 0:
                column.append("over budget")
                continue
            column.append(verdict(tool, exit_code(run, path, min(PER_FILE, left))))
        columns.append(column)
    for i, path in enumerate(args):
        print("\t".join([path, *(column[i] for column in columns)]), flush=True)


if __name__ == "__main__":
    main()
