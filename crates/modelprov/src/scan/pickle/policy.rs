//! Which callables a model file may import: an allowlist of what legitimate checkpoints need
//! (tensor and storage rebuilding, ordered dicts, NumPy arrays of plain dtypes), and a list of the
//! known-dangerous to rank first. Anything on neither list is reported as not known to be safe.

use super::simulate::Callable;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Needed by ordinary checkpoints.
    Safe,
    /// Not known to be safe: it runs code on load that nobody vetted.
    Unknown,
    /// Known to run commands, evaluate code, import modules or load further pickles.
    Dangerous,
}

/// Callables ordinary PyTorch, NumPy and scikit-style checkpoints import.
const SAFE: &[&str] = &[
    "collections.OrderedDict",
    "collections.defaultdict",
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._tensor._rebuild_from_type_v2",
    "torch.nn.parameter.Parameter",
    "torch.Size",
    "torch.device",
    "torch.storage.UntypedStorage",
    "torch.storage.TypedStorage",
    "torch.storage._TypedStorage",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.ndarray",
    "numpy.dtype",
    "_codecs.encode",
    // joblib's array wrapper: the array's bytes follow it in the stream (stepped over, not run).
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
    // NumPy arrays pickled with protocol 5: frombuffer(buffer, dtype).reshape(shape, order).
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "copyreg._reconstructor",
    "copy_reg._reconstructor",
    "builtins.set",
    "builtins.frozenset",
    "builtins.bytearray",
    "builtins.complex",
    "builtins.slice",
    "builtins.object",
    "__builtin__.set",
    "__builtin__.frozenset",
    "__builtin__.bytearray",
    "__builtin__.complex",
    "__builtin__.object",
];

/// torch storage classes and dtypes are many; they are attribute reads of `torch`.
const TORCH_ATTRIBUTE_SUFFIXES: &[&str] = &["Storage"];
const TORCH_DTYPES: &[&str] = &[
    "float16",
    "float32",
    "float64",
    "bfloat16",
    "half",
    "float",
    "double",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool",
    "complex64",
    "complex128",
    "cfloat",
    "cdouble",
    "long",
    "int",
    "short",
    "qint8",
    "quint8",
    "qint32",
    "float8_e4m3fn",
    "float8_e5m2",
];

/// Modules whose every callable is dangerous.
const DANGEROUS_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "subprocess",
    "sys",
    "runpy",
    "pip",
    "pkgutil",
    "importlib",
    "marshal",
    "timeit",
    "webbrowser",
    "socket",
    "shutil",
    "pty",
    "code",
    "codeop",
    "ctypes",
    "pickle",
    "_pickle",
    "cPickle",
    "dill",
    "operator",
    "functools",
    "types",
    "asyncio",
    "multiprocessing",
    "threading",
    "requests",
    "urllib",
    "http",
    "ftplib",
    "smtplib",
    "telnetlib",
    "bdb",
    "pdb",
    "cProfile",
    "profile",
    "trace",
    "doctest",
    "ensurepip",
    "venv",
    "distutils",
    "setuptools",
    "platform",
    "signal",
    "tempfile",
    "glob",
    "inspect",
    "linecache",
    "zipimport",
    "_posixsubprocess",
    "_io",
    "io",
    "commands",
    "popen2",
];

/// Single callables that are dangerous although their module is not.
const DANGEROUS: &[&str] = &[
    "builtins.eval",
    "builtins.exec",
    "builtins.compile",
    "builtins.open",
    "builtins.getattr",
    "builtins.setattr",
    "builtins.delattr",
    "builtins.__import__",
    "builtins.globals",
    "builtins.locals",
    "builtins.vars",
    "builtins.input",
    "builtins.breakpoint",
    "builtins.help",
    "builtins.exit",
    "builtins.quit",
    "builtins.memoryview",
    "__builtin__.eval",
    "__builtin__.execfile",
    "__builtin__.compile",
    "__builtin__.open",
    "__builtin__.getattr",
    "__builtin__.file",
    "__builtin__.__import__",
    "__builtin__.apply",
    "torch.load",
    "torch.hub.load",
    "torch.storage._load_from_bytes",
    "torch.jit.load",
    "numpy.load",
    "numpy.lib.npyio.load",
    "joblib.load",
    "torch._inductor.codecache.compile_file",
    "torch.utils.cpp_extension.load_inline",
];

pub fn risk(callable: &Callable) -> Risk {
    let full = callable.to_string();
    let top = callable.module.split('.').next().unwrap_or_default();
    if DANGEROUS.contains(&full.as_str()) || DANGEROUS_MODULES.contains(&top) {
        return Risk::Dangerous;
    }
    if SAFE.contains(&full.as_str()) {
        return Risk::Safe;
    }
    if callable.module == "torch"
        && (TORCH_ATTRIBUTE_SUFFIXES
            .iter()
            .any(|s| callable.name.ends_with(s))
            || TORCH_DTYPES.contains(&callable.name.as_str()))
    {
        return Risk::Safe;
    }
    Risk::Unknown
}

/// NumPy `dtype('O')` arrays hold pickled Python objects: loading one runs their pickles.
pub fn object_dtype(callable: &Callable, texts: &[String]) -> bool {
    callable.name == "dtype"
        && callable.module.starts_with("numpy")
        && texts.iter().any(|t| t.starts_with('O'))
}
