#!/usr/bin/env python3
"""Generates crates/modelprov/src/scan/pickle/allowlist.tsv: the classes and reconstructors that
real model pickles name, read from pinned versions of the libraries themselves.

    python3 scripts/allowlist/generate.py [--work DIR] [--output FILE]

It makes one virtual environment per requirements file below (NumPy 2 with the current libraries,
NumPy 1 with older ones, since pickles written by either name their own module paths), installs
the pinned packages with `pip install --no-deps` (every transitive dependency is pinned too), and
runs itself inside each with `--introspect`, which imports the packages and lists their classes.
torch and catboost are too heavy to import here; their wheels are downloaded (`pip download
--no-deps`) and read by AST without importing or executing anything.

Which names are listed (docs/scanning.md, "The allowlist"):

* **Classes only**, found by `inspect.isclass` on the attributes of every submodule, listed as
  `__module__.__qualname__` (what pickle records), only when that name resolves back to the same
  class (else no pickle can name it) and the class is defined inside the package (a re-exported
  foreign class is not vouched for by listing its re-exporter).
* **Never a class that runs code**: exceptions, metaclasses (calling one makes a class), and
  subclasses of callable wrappers (functools.partial, operator.methodcaller, property, threads,
  processes, ...) are left out, as are test/testing/benchmark/vendored modules, and the reviewed
  exclusions in EXCLUDED_CLASSES (classes that open or create files, download, or wrap a callable
  when constructed, e.g. numpy.memmap).
* **Modules**: every submodule walked is listed as a `module` line; the scanner lets a dotted
  name pass through these and through no other module (docs/scanning.md).
* **Known reconstructors**: functions are never listed by introspection; the few functions that
  pickles of data call to rebuild it (numpy's `_reconstruct`, `scalar`, `_frombuffer`, torch's
  `_rebuild_*`, copyreg's `_reconstructor`, Cython's generated `__pyx_unpickle_*`) are listed by
  name below, and each is checked to exist in the pinned package, so a renamed one fails here.
"""

import argparse
import ast
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEFAULT_OUTPUT = ROOT / "crates/modelprov/src/scan/pickle/allowlist.tsv"

# requirements file -> packages to introspect in that environment
ENVIRONMENTS = {
    "numpy2": "requirements.txt",
    "numpy1": "requirements-numpy1.txt",
}

# (import name, submodules to walk; None = the whole package)
PACKAGES = [
    ("numpy", None),
    ("sklearn", None),
    ("scipy", ["scipy.sparse", "scipy.spatial"]),
    ("gensim", None),
    ("sklearn_crfsuite", None),
    ("pycrfsuite", None),
    ("xgboost", None),
    ("lightgbm", None),
    ("omegaconf", None),
    ("pandas", ["pandas.core", "pandas._libs"]),
]

# Packages whose private classes (`_Name`) pickles name (sklearn's `_BinMapper`, numpy's
# `_NoValueType`); elsewhere a private class is an implementation detail (temp files, wrappers
# around user callables) and is left out.
PRIVATE_CLASSES_PICKLED = {"numpy", "sklearn"}

# Module path segments never walked: tests, test helpers, build helpers, vendored copies, and
# modules whose classes download, spawn, or exist to call other code.
SKIPPED_SEGMENTS = {
    "tests", "test", "testing", "_testing", "conftest", "benchmarks", "_build_utils",
    "__check_build", "externals", "_vendored", "f2py", "distutils", "_pyinstaller", "ctypeslib",
    "_datasource", "parallel", "_parallel_backends", "dask", "spark", "pyspark", "federated",
    "collective", "tracker", "plotting", "downloader", "scripts", "_distributor_init",
    "_pytesttester", "setup", "__main__", "linalg", "io", "plotting", "interchange",
    # pandas: expression evaluation (its parser calls functions), callables applied to data
    "computation", "apply", "_numba", "window", "groupby", "resample", "accessor",
    # scikit-learn's test doubles (estimators that call the callables they are given)
    "mocking", "_mocking",
}

# Modules whose names the scanner refuses (loaders, code generators: DANGEROUS_PREFIXES in
# crates/modelprov/src/scan/pickle/policy.rs); never walked, so nothing listed contradicts it.
SKIPPED_PREFIXES = (
    "numpy.lib.npyio", "numpy.lib._npyio_impl", "numpy.lib.format", "numpy.testing",
    "numpy.ctypeslib",
)

# Reviewed: classes whose construction touches files, the network or a callable's code.
EXCLUDED_CLASSES = {
    "numpy.memmap",  # memmap(path, mode='w+') creates or truncates a file
    "numpy.vectorize",  # wraps a callable
    "numpy.lib._npyio_impl.NpzFile",
    "numpy.lib.npyio.NpzFile",
    "numpy.lib._npyio_impl.DataSource",
    "numpy.lib.npyio.DataSource",
    "numpy.lib._datasource.DataSource",
    "numpy.lib._datasource.Repository",
    "numpy.lib._datasource._FileOpeners",
    "numpy.lib.format.open_memmap",
    "numpy.ufunc",  # ufuncs pickle through _ufunc_reconstruct, which imports any module
    "numpy._core._internal._ctypes",  # an array's ctypes view of its raw memory
    "numpy.core._internal._ctypes",
}

# Callables that wrap other callables or run code when called or constructed.
WRAPPER_BASES = [
    "functools.partial", "functools.partialmethod", "functools.cached_property",
    "operator.attrgetter", "operator.itemgetter", "operator.methodcaller",
    "builtins.property", "builtins.staticmethod", "builtins.classmethod", "builtins.super",
    "builtins.map", "builtins.filter", "builtins.type", "builtins.BaseException",
    "threading.Thread", "threading.Timer", "multiprocessing.process.BaseProcess",
    "subprocess.Popen", "concurrent.futures.Executor", "contextlib.ContextDecorator",
    "weakref.ref", "weakref.finalize", "logging.Handler",
]

# Standard library data types pickles of models carry (explicit: the standard library is full of
# classes that do things, so only these data types are listed, each checked to be a class).
STDLIB_CLASSES = [
    "builtins.object", "builtins.bool", "builtins.int", "builtins.float", "builtins.complex",
    "builtins.str", "builtins.bytes", "builtins.bytearray", "builtins.list", "builtins.tuple",
    "builtins.dict", "builtins.set", "builtins.frozenset", "builtins.slice", "builtins.range",
    "collections.OrderedDict", "collections.defaultdict", "collections.deque",
    "collections.Counter", "collections.ChainMap", "collections.UserDict", "collections.UserList",
    "collections.UserString",
    "datetime.date", "datetime.time", "datetime.datetime", "datetime.timedelta",
    "datetime.timezone", "datetime.tzinfo",
    "decimal.Decimal", "fractions.Fraction", "uuid.UUID", "uuid.SafeUUID",
    "pathlib.PurePath", "pathlib.PurePosixPath", "pathlib.PureWindowsPath", "pathlib.Path",
    "pathlib.PosixPath", "pathlib.WindowsPath",
    "ipaddress.IPv4Address", "ipaddress.IPv6Address", "ipaddress.IPv4Network",
    "ipaddress.IPv6Network", "ipaddress.IPv4Interface", "ipaddress.IPv6Interface",
    "array.array", "re.Pattern", "re.RegexFlag", "enum.Enum", "enum.IntEnum", "enum.Flag",
    "enum.IntFlag", "typing.Any",
]

# Reviewed reconstructors: functions that only rebuild data from their arguments.
# (module, function, environment that must have it or None for "checked elsewhere")
RECONSTRUCTORS = [
    ("copyreg", "_reconstructor"),  # object.__new__ + base __init__ with data
    ("copyreg", "__newobj__"),  # cls.__new__(cls, *args), protocols 0 and 1
    ("copyreg", "__newobj_ex__"),
    ("_codecs", "encode"),  # protocol 2 bytes: encode(text, 'latin1')
    ("array", "_array_reconstructor"),
    ("re", "_compile"),  # re.Pattern's reducer: compiles a regular expression
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.core.multiarray", "_reconstruct"),  # NumPy 1: ndarray.__reduce__
    ("numpy.core.multiarray", "scalar"),  # NumPy 1: numpy scalars
    ("numpy.core.numeric", "_frombuffer"),  # NumPy 1: protocol 5 arrays
    ("numpy._core.multiarray", "_reconstruct"),  # NumPy 2
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy.random", "__RandomState_ctor"),  # numpy < 1.17's name, kept by numpy.random
    ("pandas.core.indexes.base", "_new_Index"),  # cls.__new__(cls, **data)
    ("pandas._libs.internals", "_unpickle_block"),
    ("pandas.core.internals.blocks", "new_block"),
    ("pandas._libs.tslibs.timestamps", "_unpickle_timestamp"),
    ("pandas._libs.tslibs.timedeltas", "_timedelta_unpickle"),
]

# Reviewed functions model pickles hold as attribute values (an estimator's scoring function, a
# hash function parameter): imported by the pickle but never called while loading. Listed with
# kind `function`: the scanner accepts importing them, and flags calling one during the load.
REFERENCED_FUNCTIONS = [
    ("builtins", "hash"),  # gensim < 4's hashfxn parameter
    ("gensim.utils", "call_on_class_only"),  # replaces `load` on instances
    ("gensim.utils", "identity"),
    ("gensim.models.tfidfmodel", "df2idf"),
    ("gensim.models.tfidfmodel", "smartirs_normalize"),
    ("gensim.models.tfidfmodel", "smartirs_wglobal"),
    ("gensim.models.tfidfmodel", "smartirs_wlocal"),
    ("gensim.models.phrases", "original_scorer"),
    ("gensim.models.phrases", "npmi_scorer"),
    ("gensim.models.ensemblelda", "mass_masking"),
    ("gensim.models.ensemblelda", "rank_masking"),
]

# Reconstructors of releases too old to install here, by the name their pickles use.
HISTORIC_RECONSTRUCTORS = [
    "numpy.core._internal._reconstruct",  # NumPy < 1.0 (numpy's own py2-np0-objarr.npy)
]

# joblib's array wrappers (joblib is not walked: its other classes open files and run jobs), by
# their current and old module paths, aliased to the class they name today. sklearn < 0.23 vendored joblib as sklearn.externals.joblib; joblib < 0.10 defined the
# NDArrayWrapper classes in numpy_pickle (now numpy_pickle_compat).
ALIASES = {
    f"{prefix}.{module}.{name}": f"joblib.{target}.{name}"
    for prefix in ("joblib", "sklearn.externals.joblib")
    for module, name, target in [
        ("numpy_pickle", "NumpyArrayWrapper", "numpy_pickle"),
        ("numpy_pickle", "NDArrayWrapper", "numpy_pickle_compat"),
        ("numpy_pickle", "ZNDArrayWrapper", "numpy_pickle_compat"),
        ("numpy_pickle_compat", "NDArrayWrapper", "numpy_pickle_compat"),
        ("numpy_pickle_compat", "ZNDArrayWrapper", "numpy_pickle_compat"),
    ]
}


def run(cmd):
    print("+", " ".join(map(str, cmd)), file=sys.stderr)
    subprocess.run(cmd, check=True)


def skipped(module):
    if module.startswith(SKIPPED_PREFIXES):
        return True
    return any(seg in SKIPPED_SEGMENTS for seg in module.split(".")[1:])


def dunder(dotted):
    """The scanner refuses names with a `__x__` segment (numpy.__config__): never list one."""
    return any(seg.startswith("__") and seg.endswith("__") for seg in dotted.split("."))


def resolve(dotted):
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def introspect(environment):
    """Runs inside a generated environment: prints the classes and reconstructors found."""
    import importlib
    import importlib.metadata
    import inspect
    import pkgutil
    import warnings

    warnings.simplefilter("ignore")
    wrappers = tuple(filter(None, (resolve(name) for name in WRAPPER_BASES)))
    names = {}
    failed = []

    def consider(obj, package, alias=None):
        if not inspect.isclass(obj):
            return
        module = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None)
        if not isinstance(module, str) or not isinstance(qualname, str):
            return
        if module != package and not module.startswith(package + "."):
            return
        if "<" in qualname or "." in qualname or skipped(module) or dunder(f"{module}.{qualname}"):
            return
        if qualname.startswith("_") and package not in PRIVATE_CLASSES_PICKLED:
            return
        name = f"{module}.{qualname}"
        if name in EXCLUDED_CLASSES or issubclass(obj, wrappers):
            return
        if resolve(name) is not obj:
            return
        names[name] = ("class", package)
        # A module of the package that binds the class under another name (gensim 4's
        # keyedvectors.Vocab = CompatVocab) is a path old pickles use and loaders still resolve.
        if alias and not skipped(alias.rsplit(".", 1)[0]) and not dunder(alias) and resolve(alias) is obj:
            names.setdefault(alias, ("class", package))

    for package, roots in PACKAGES:
        try:
            top = importlib.import_module(package)
        except Exception as error:
            failed.append(f"{package}: {error!r}")
            continue
        modules = set(roots or [package])
        for root in roots or [package]:
            mod = importlib.import_module(root)
            if hasattr(mod, "__path__"):
                for info in pkgutil.walk_packages(mod.__path__, root + ".", onerror=lambda _: None):
                    modules.add(info.name)
        del top
        for module_name in sorted(modules):
            if skipped(module_name):
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as error:
                failed.append(f"{module_name}: {type(error).__name__}")
                continue
            # Genuine submodules: the scanner lets a name pass through these (numpy.random._pickle
            # is numpy's, not CPython's _pickle) but not through any other module a name reaches.
            if getattr(module, "__name__", None) == module_name and not dunder(module_name):
                names[module_name] = ("module", package)
            for attr, obj in list(vars(module).items()):
                consider(obj, package, f"{module_name}.{attr}")
                # Cython's generated reconstructors for cdef classes: __new__ plus C field state.
                if attr.startswith("__pyx_unpickle_") and callable(obj):
                    names[f"{module_name}.{attr}"] = ("reconstructor", package)
                # scikit-learn's Cython trees and metrics reduce to newObj(cls) = cls.__new__(cls).
                if package == "sklearn" and attr == "newObj" and callable(obj):
                    names[f"{module_name}.{attr}"] = ("reconstructor", package)

    for name in STDLIB_CLASSES:
        obj = resolve(name)
        if inspect.isclass(obj):
            names[name] = ("class", "python")
        else:
            failed.append(f"{name}: not a class")
    for module, function in RECONSTRUCTORS:
        if module.startswith("numpy.core") and environment != "numpy1":
            continue
        if module.startswith("numpy._core") and environment == "numpy1":
            continue
        if not module.startswith("numpy") and environment == "numpy1":
            continue  # the other packages' reconstructors are checked in the numpy2 environment
        if callable(resolve(f"{module}.{function}")):
            names[f"{module}.{function}"] = ("reconstructor", module.split(".")[0])
        else:
            failed.append(f"{module}.{function}: missing")
    if environment == "numpy2":
        for module, function in REFERENCED_FUNCTIONS:
            if callable(resolve(f"{module}.{function}")):
                names[f"{module}.{function}"] = ("function", module.split(".")[0])
            else:
                failed.append(f"{module}.{function}: missing")
        for name in HISTORIC_RECONSTRUCTORS:
            names[name] = ("reconstructor", "historic")
    for alias, target in ALIASES.items():
        if environment == "numpy2":
            if inspect.isclass(resolve(target)):
                names[alias] = ("class", "joblib")
            else:
                failed.append(f"{target}: missing")

    versions = sorted(
        f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions()
    )
    json.dump(
        {"names": names, "versions": versions, "python": sys.version.split()[0], "failed": failed},
        sys.stdout,
    )


# ---- torch and catboost, read from their wheels by AST (nothing imported or executed) ----


def ast_of(wheel, path):
    return ast.parse(wheel.read(path).decode("utf-8"), path)


def module_classes(wheel, path, module):
    tree = ast_of(wheel, path)
    return {
        f"{module}.{node.name}"
        for node in tree.body
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
    }


def torch_names(wheel):
    names = {}
    # torch's own weights_only unpickler allowlist: its literal keys.
    tree = ast_of(wheel, "torch/_weights_only_unpickler.py")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_get_allowed_globals":
            for sub in ast.walk(node):
                if isinstance(sub, ast.Dict):
                    for key in sub.keys:
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            kind = "class" if key.value.split(".")[-1][:1].isupper() else "reconstructor"
                            names[key.value] = kind
    # Tensor rebuilders in torch/_utils.py and torch/_tensor.py (what tensors' __reduce_ex__ returns).
    for path, module in [("torch/_utils.py", "torch._utils"), ("torch/_tensor.py", "torch._tensor")]:
        for node in ast_of(wheel, path).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("_rebuild"):
                names[f"{module}.{node.name}"] = "reconstructor"
    # TorchScript's unpickling helpers (build lists and tensors from constants, restore type tags).
    for node in ast_of(wheel, "torch/jit/_pickle.py").body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            names[f"torch.jit._pickle.{node.name}"] = "reconstructor"
    # dtypes, qschemes and layouts are module attributes declared in torch/_C's stub.
    for node in ast_of(wheel, "torch/_C/__init__.pyi").body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(node.annotation, ast.Name)
        ):
            if node.annotation.id in ("dtype", "qscheme", "layout", "memory_format"):
                names[f"torch.{node.target.id}"] = "class"
    # Storage classes (torch.FloatStorage, ...) and the storage types.
    for node in ast_of(wheel, "torch/__init__.py").body:
        if isinstance(node, ast.ClassDef) and node.name.endswith("Storage"):
            names[f"torch.{node.name}"] = "class"
    for name in module_classes(wheel, "torch/storage.py", "torch.storage"):
        if name.endswith("Storage"):
            names[name] = "class"
    names["torch.storage._TypedStorage"] = "class"  # torch < 1.13's name for TypedStorage
    for extra in ["torch.Size", "torch.device", "torch.dtype", "torch.Tensor"]:
        names[extra] = "class"
    names.update({n: "class" for n in module_classes(wheel, "torch/nn/parameter.py", "torch.nn.parameter")})
    # Whole-model pickles (torch.save(model)) name the nn layers by their defining module.
    for path in wheel.namelist():
        if path.startswith("torch/nn/modules/") and path.endswith(".py") and "/_" not in path[17:]:
            module = path[:-3].replace("/", ".")
            names.update({n: "class" for n in module_classes(wheel, path, module)})
    return names


def catboost_names(wheel):
    names = {}
    for path in wheel.namelist():
        if path.startswith("catboost/") and path.endswith(".py"):
            module = path[:-3].replace("/", ".")
            if module.endswith("__init__") or skipped(module) or "widget" in module:
                continue
            for name in module_classes(wheel, path, module):
                if name.rsplit(".", 1)[1].startswith(("CatBoost", "Pool", "EFstr", "EShap", "FeaturesData")):
                    names[name] = "class"
    return names


def gensim3_names(wheel):
    """gensim 3's classes (pickles of gensim < 4 name them; gensim 3 has no wheel for this Python,
    so its wheels for older Pythons are read). Its wrappers drive external binaries: only the FastText one
    (a reader of fastText's files) is listed."""
    names = {}
    for path in wheel.namelist():
        if not (path.startswith(("gensim/models/", "gensim/corpora/")) or path == "gensim/utils.py"):
            continue
        if not path.endswith(".py") or path.endswith("__init__.py"):
            continue
        if "/wrappers/" in path and not path.endswith("wrappers/fasttext.py"):
            continue
        module = path[:-3].replace("/", ".")
        if skipped(module):
            continue
        names.update({n: "class" for n in module_classes(wheel, path, module)})
    # `from gensim.models.deprecated.fasttext_wrapper import FastText` in wrappers/fasttext.py:
    # the re-exported name is one pickles use.
    for path in wheel.namelist():
        wrapper = "/wrappers/" in path and not path.endswith("wrappers/fasttext.py")
        if path.startswith("gensim/models/") and path.endswith(".py") and not wrapper:
            module = path[:-3].replace("/", ".").removesuffix(".__init__")
            for node in ast_of(wheel, path).body:
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    for alias in node.names:
                        if f"{node.module}.{alias.name}" in names and alias.asname is None:
                            names.setdefault(f"{module}.{alias.name}", "class")
    return names


def old_package_names(package, roots):
    """Public module-level classes of an old release under `roots` (pickles made with
    scikit-learn < 0.22 name `sklearn.svm.classes.LinearSVC`, pandas < 1.0
    `pandas.core.indexes.frozen.FrozenNDArray`: module paths the current releases renamed or
    removed). Read from the old wheel by AST, with the same skipped modules and exclusions."""

    def reader(wheel):
        names = {}
        for path in wheel.namelist():
            if not (path.startswith(roots) and path.endswith(".py")) or path.endswith("__init__.py"):
                continue
            module = path[:-3].replace("/", ".")
            if skipped(module):
                continue
            for name in module_classes(wheel, path, module):
                if name not in EXCLUDED_CLASSES and not name.rsplit(".", 1)[1].endswith(("Error", "Warning")):
                    names[name] = "class"
        return names

    reader.__name__ = f"{package}_old_names"
    return reader


# wheel pins file -> extra `pip download` arguments (gensim 3 has wheels for old Pythons only)
AST_WHEELS = {
    "wheels-ast.txt": [],
    "wheels-ast-py38.txt": ["--python-version", "3.8", "--platform", "manylinux1_x86_64"],
    # gensim 3.2 still defines the classes gensim 0.12 to 3.2 pickles name (doc2vec.DocvecsArray)
    "wheels-ast-py36.txt": ["--python-version", "3.6", "--platform", "manylinux1_x86_64"],
    # scikit-learn 0.21 and pandas 0.24: the module paths of their era's pickles
    "wheels-ast-py37.txt": ["--python-version", "3.7", "--platform", "manylinux1_x86_64"],
}
READERS = {
    "torch": torch_names,
    "catboost": catboost_names,
    "gensim": gensim3_names,
    "scikit-learn": old_package_names("sklearn", ("sklearn/",)),
    "pandas": old_package_names("pandas", ("pandas/core/",)),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "target/allowlist")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--introspect", metavar="ENVIRONMENT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.introspect:
        return introspect(args.introspect)

    entries = {}  # name -> (kind, source)
    header = []
    for environment, requirements in ENVIRONMENTS.items():
        venv = args.work / environment
        python = venv / "bin/python"
        if not python.exists():
            run([sys.executable, "-m", "venv", venv])
        run([python, "-m", "pip", "install", "-q", "--no-deps", "-r", HERE / requirements])
        out = subprocess.run(
            [python, __file__, "--introspect", environment],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = json.loads(out)
        header.append(f"# {environment} (Python {found['python']}): {' '.join(found['versions'])}")
        for problem in found["failed"]:
            header.append(f"#   not importable in {environment}, skipped: {problem}")
        for name, (kind, source) in found["names"].items():
            entries.setdefault(name, (kind, f"{source}@{environment}"))

    wheels = args.work / "wheels"
    pins = []
    for pin_file, extra in AST_WHEELS.items():
        run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             *extra, "-d", wheels, "-r", HERE / pin_file])
        pins += [line.strip() for line in (HERE / pin_file).read_text().splitlines() if line.strip()]
    header.append(f"# read by AST from wheels, not imported: {' '.join(pins)}")
    for pin in pins:
        project, version = pin.split("==")
        # Wheel file names spell the project with underscores (scikit_learn-0.21.3-...).
        (wheel_path,) = wheels.glob(f"{project.replace('-', '_')}-{version}-*.whl")
        with zipfile.ZipFile(wheel_path) as wheel:
            found = READERS[project](wheel)
            files = set(wheel.namelist())
        for name, kind in found.items():
            entries.setdefault(name, (kind, f"{project}@wheel"))
            # The modules these names pass through, when the wheel has them as files.
            parts = name.split(".")
            for cut in range(1, len(parts)):
                module = "/".join(parts[:cut])
                if f"{module}.py" in files or f"{module}/__init__.py" in files:
                    entries.setdefault(".".join(parts[:cut]), ("module", f"{project}@wheel"))

    lines = [
        "# The classes and reconstructors model pickles may name; generated, do not edit.",
        "# Regenerate: python3 scripts/allowlist/generate.py (docs/scanning.md, 'The allowlist')",
        *header,
        "# name\tkind\tsource",
    ]
    lines += [f"{name}\t{kind}\t{source}" for name, (kind, source) in sorted(entries.items())]
    args.output.write_text("\n".join(lines) + "\n")
    print(f"{len(entries)} names written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
