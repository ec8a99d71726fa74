//! Which callables a model file may import. The allowlist is generated from the libraries that
//! write model pickles (`allowlist.tsv`, `scripts/allowlist/generate.py`): their data classes
//! and the few reconstructors those pickles call. Names that reach code (a dangerous module, a
//! code-running attribute, a `__dunder__` segment, a module reached *through* another module) are
//! dangerous whatever the list or a team's policy says. Anything else is not known to be safe.

use std::collections::{BTreeSet, HashSet};
use std::sync::LazyLock;

use super::simulate::Callable;

/// How dangerous a callable a pickle imports or calls is, from safe to dangerous; the worst risk
/// ranks a finding first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// On the generated allowlist: data construction real models need.
    Safe,
    /// Not known to be safe, but a team's policy trusts it (`--allow`, a policy file): reported,
    /// and does not make the file unsafe.
    Allowed,
    /// Not known to be safe: it runs code on load that nobody vetted.
    Unknown,
    /// Known to run commands, evaluate code, import modules or load further pickles.
    Dangerous,
}

/// The generated allowlist: `name<TAB>kind<TAB>source` lines; kinds are `class`, `reconstructor`
/// (callables a pickle may name and call), `function` (may be named, as an attribute's value, but
/// not called while loading) and `module` (genuine submodules a name may pass through).
const ALLOWLIST_TSV: &str = include_str!("allowlist.tsv");

struct Allowlist {
    callables: HashSet<&'static str>,
    referenced: HashSet<&'static str>,
    modules: HashSet<&'static str>,
}

static ALLOWLIST: LazyLock<Allowlist> = LazyLock::new(|| {
    let mut list = Allowlist {
        callables: HashSet::new(),
        referenced: HashSet::new(),
        modules: HashSet::new(),
    };
    for line in ALLOWLIST_TSV.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let mut fields = line.split('\t');
        match (fields.next(), fields.next()) {
            (Some(name), Some("module")) => list.modules.insert(name),
            (Some(name), Some("function")) => list.referenced.insert(name),
            (Some(name), Some(_)) => list.callables.insert(name),
            _ => false,
        };
    }
    list
});

/// Modules whose every callable (and everything reached through them) is dangerous.
const DANGEROUS_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "subprocess",
    "_posixsubprocess",
    "sys",
    "runpy",
    "pip",
    "pkgutil",
    "importlib",
    "imp",
    "_imp",
    "zipimport",
    "site",
    "sysconfig",
    "marshal",
    "timeit",
    "webbrowser",
    "socket",
    "_socket",
    "ssl",
    "shutil",
    "pty",
    "code",
    "codeop",
    "idlelib",
    "lib2to3",
    "pydoc",
    "ctypes",
    "_ctypes",
    "cffi",
    "pickle",
    "_pickle",
    "cPickle",
    "pickletools",
    "dill",
    "cloudpickle",
    "shelve",
    "operator",
    "_operator",
    "functools",
    "types",
    "gc",
    "asyncio",
    "multiprocessing",
    "concurrent",
    "threading",
    "_thread",
    "requests",
    "urllib",
    "urllib3",
    "http",
    "xmlrpc",
    "ftplib",
    "smtplib",
    "telnetlib",
    "bdb",
    "pdb",
    "cProfile",
    "profile",
    "_lsprof",
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
    "_io",
    "io",
    "commands",
    "popen2",
    "_osx_support",
    "_aix_support",
];

/// Dotted prefixes that reach compilers, hubs, loaders or code generators of allowed packages.
const DANGEROUS_PREFIXES: &[&str] = &[
    "torch._dynamo",
    "torch._inductor",
    "torch._export",
    "torch.fx",
    "torch.hub",
    "torch.package",
    "torch.utils.cpp_extension",
    "torch.utils._config_module",
    "torch.jit._serialization",
    "torch._C._jit",
    "numpy.testing",
    "numpy.f2py",
    "numpy.distutils",
    "numpy.ctypeslib",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.lib.format",
    "logging.config",
    "uuid._get_command_stdout",
    "uuid._popen",
];

/// The last segment of a name, when it is one of these, reaches code or another loader whatever
/// module it is read from (`builtins.eval`, `numpy.load`, `gensim...Word2Vec.load`).
const DANGEROUS_ATTRIBUTES: &[&str] = &[
    "eval",
    "exec",
    "execfile",
    "compile",
    "open",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "input",
    "breakpoint",
    "help",
    "exit",
    "quit",
    "memoryview",
    "file",
    "apply",
    "system",
    "popen",
    "spawn",
    "fork",
    "load",
    "loads",
    "load_model",
    "load_library",
    "load_inline",
    "compile_file",
    "resolve_name",
    "methodcaller",
    "attrgetter",
    "run_path",
    "run_module",
    "runstring",
    "runctx",
    "runcall",
    "check_output",
    "check_call",
    "Popen",
    "_load_from_bytes",
];

/// `__x__` segments pickles of data name (copyreg's protocol 0/1 `__newobj__`), reviewed.
const DUNDER_RECONSTRUCTORS: &[&str] = &["copyreg.__newobj__", "copyreg.__newobj_ex__"];

/// Python 2 module names that `pickle` maps to their Python 3 names when loading
/// (`_compat_pickle.IMPORT_MAPPING`; the ones model pickles use or attacks could).
fn python3_module(top: &str) -> &str {
    match top {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "UserDict" | "UserList" | "UserString" => "collections",
        "commands" => "subprocess",
        "urllib2" => "urllib",
        "cStringIO" | "StringIO" => "io",
        "Queue" => "queue",
        other => other,
    }
}

/// Python 2 builtins that `pickle` maps to other names (`_compat_pickle.NAME_MAPPING`).
fn python3_builtin(name: &str) -> Option<&'static str> {
    Some(match name {
        "xrange" => "builtins.range",
        "long" => "builtins.int",
        "unicode" | "basestring" => "builtins.str",
        "unichr" => "builtins.chr",
        "reduce" => "functools.reduce",
        "intern" => "sys.intern",
        "raw_input" => "builtins.input",
        "reload" => "importlib.reload",
        _ => return None,
    })
}

fn is_dunder(segment: &str) -> bool {
    segment.len() > 4 && segment.starts_with("__") && segment.ends_with("__")
}

/// `module.name` as `pickle` resolves it: the module imported, then each segment of the name
/// (protocol 4 qualnames hold dots) read as an attribute, Python 2 module names mapped.
fn dotted(callable: &Callable) -> String {
    if callable.module == "__builtin__"
        && let Some(mapped) = python3_builtin(&callable.name)
    {
        return mapped.to_string();
    }
    let (top, rest) = callable
        .module
        .split_once('.')
        .map_or((callable.module.as_str(), None), |(t, r)| (t, Some(r)));
    let mut full = python3_module(top).to_string();
    if let Some(rest) = rest {
        full.push('.');
        full.push_str(rest);
    }
    full.push('.');
    full.push_str(&callable.name);
    full
}

/// Why `name` (a full dotted name) reaches code, if it does: checked segment by segment, so an
/// allowed module re-exporting `os` does not make `os.system` safe.
pub fn danger(name: &str) -> Option<String> {
    let segments: Vec<&str> = name.split('.').collect();
    let top = python3_module(segments[0]);
    if top == "__torch__" {
        // TorchScript's class namespace: resolved by torch.jit.load's own unpickler, never
        // imported; only the other segments are checked.
    } else if top == "__main__" {
        return None; // whatever the loading program defines: not known, but not known bad
    } else if is_dunder(top) {
        return Some(format!("'{top}' is an interpreter internal"));
    }
    if DUNDER_RECONSTRUCTORS.contains(&name) {
        return None;
    }
    if let Some(segment) = segments[1..].iter().find(|s| is_dunder(s)) {
        return Some(format!(
            "'{segment}' reaches interpreter internals through the module"
        ));
    }
    if DANGEROUS_MODULES.contains(&top) {
        return Some(format!("module '{top}' runs code, imports or loads"));
    }
    // A dangerous module reached as an attribute of another (`pathlib.os.system`): dangerous
    // unless that segment is a genuine submodule of a vetted package (numpy.random._pickle).
    for (at, segment) in segments.iter().enumerate().skip(1) {
        if DANGEROUS_MODULES.contains(segment)
            && !ALLOWLIST
                .modules
                .contains(segments[..=at].join(".").as_str())
        {
            return Some(format!(
                "reaches module '{segment}' through '{}'",
                segments[..at].join(".")
            ));
        }
    }
    if let Some(prefix) = DANGEROUS_PREFIXES
        .iter()
        .find(|p| name == **p || name.starts_with(&format!("{p}.")))
    {
        return Some(format!("'{prefix}' compiles, loads or runs code"));
    }
    let last = segments[segments.len() - 1];
    if DANGEROUS_ATTRIBUTES.contains(&last) || last == "__import__" {
        return Some(format!("'{last}' runs code or loads further data"));
    }
    None
}

/// The judgement of a callable that the pickle calls (REDUCE, NEWOBJ, ...), not only names: a
/// function listed as referenced data (`gensim.utils.identity`) is not known to be safe to call.
pub fn risk_call_with(callable: &Callable, allowed: &BTreeSet<String>) -> Risk {
    let level = risk_with(callable, allowed);
    if level == Risk::Safe && ALLOWLIST.referenced.contains(dotted(callable).as_str()) {
        return Risk::Unknown;
    }
    level
}

/// The built-in judgement of a callable, with no team policy.
pub fn risk(callable: &Callable) -> Risk {
    risk_with(callable, &BTreeSet::new())
}

/// The judgement of a callable when a team also trusts the names in `allowed` (full dotted
/// names, checked by [`refuse_allow`] when they were added).
pub fn risk_with(callable: &Callable, allowed: &BTreeSet<String>) -> Risk {
    let full = dotted(callable);
    if danger(&full).is_some() {
        return Risk::Dangerous;
    }
    if ALLOWLIST.callables.contains(full.as_str())
        || ALLOWLIST.referenced.contains(full.as_str())
        || torchscript_class(&full)
    {
        return Risk::Safe;
    }
    if allowed.contains(&full) || allowed.contains(&callable.to_string()) {
        return Risk::Allowed;
    }
    Risk::Unknown
}

/// `__torch__.MyModel`, `__torch__.torch.nn.modules.linear.Linear`: the classes a TorchScript
/// archive's `data.pkl` names; its loader makes them from the archive's own compiled code, which
/// is reported as code, not trusted here.
fn torchscript_class(full: &str) -> bool {
    full.strip_prefix("__torch__.").is_some_and(|rest| {
        rest.split('.')
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
    })
}

/// Why a team may not trust `name`, if it may not: a dangerous name, a `__dunder__` or
/// `__main__` one (the loading program's own namespace), or not a `module.Name` at all.
pub fn refuse_allow(name: &str) -> Option<String> {
    let segments: Vec<&str> = name.split('.').collect();
    if segments.len() < 2
        || segments.iter().any(|s| {
            s.is_empty()
                || s.starts_with(|c: char| c.is_ascii_digit())
                || !s.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
    {
        return Some("is not a dotted MODULE.NAME".into());
    }
    if let Some(why) = danger(name) {
        return Some(format!("can run code ({why}); no policy can allow it"));
    }
    if segments.iter().any(|s| is_dunder(s)) {
        return Some("names an interpreter namespace (a __dunder__ segment)".into());
    }
    None
}

/// NumPy `dtype('O')` arrays hold pickled Python objects: loading one runs their pickles.
pub fn object_dtype(callable: &Callable, texts: &[String]) -> bool {
    callable.name == "dtype"
        && callable.module.starts_with("numpy")
        && texts.iter().any(|t| t.starts_with('O'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(full: &str) -> Risk {
        let (module, name) = full.rsplit_once('.').unwrap();
        risk(&Callable {
            module: module.into(),
            name: name.into(),
        })
    }

    /// As protocol 4's STACK_GLOBAL writes it: module, then a dotted qualname.
    fn judge_split(module: &str, name: &str) -> Risk {
        risk(&Callable {
            module: module.into(),
            name: name.into(),
        })
    }

    #[test]
    fn classes_real_models_name_are_safe() {
        for name in [
            "numpy.core.multiarray._reconstruct",
            "numpy._core.multiarray._reconstruct",
            "numpy.core.multiarray.scalar",
            "numpy._core.multiarray.scalar",
            "numpy._core.numeric._frombuffer",
            "numpy.core.numeric._frombuffer",
            "numpy.dtypes.Float64DType",
            "numpy.ndarray",
            "numpy.dtype",
            "numpy.random._pickle.__randomstate_ctor",
            "datetime.datetime",
            "decimal.Decimal",
            "uuid.UUID",
            "collections.OrderedDict",
            "__builtin__.set",
            "copy_reg._reconstructor",
            "copyreg.__newobj__",
            "sklearn.linear_model._logistic.LogisticRegression",
            "sklearn.tree._tree.Tree",
            "sklearn.tree._criterion.Gini",
            "sklearn._loss.loss.HalfBinomialLoss",
            "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
            "scipy.sparse._csr.csr_matrix",
            "gensim.models.word2vec.Word2Vec",
            "gensim.models.keyedvectors.KeyedVectors",
            "sklearn_crfsuite.estimator.CRF",
            "joblib.numpy_pickle.NumpyArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper",
            "joblib.numpy_pickle_compat.NDArrayWrapper",
            "sklearn.externals.joblib.numpy_pickle.ZNDArrayWrapper",
            "xgboost.sklearn.XGBClassifier",
            "lightgbm.sklearn.LGBMClassifier",
            "catboost.core.CatBoostClassifier",
            "omegaconf.dictconfig.DictConfig",
            "omegaconf.base.ContainerMetadata",
            "torch._utils._rebuild_tensor_v2",
            "torch._tensor._rebuild_from_type_v2",
            "torch.jit._pickle.restore_type_tag",
            "torch.jit._pickle.build_intlist",
            "torch.FloatStorage",
            "torch.float32",
            "torch.bfloat16",
            "torch.nn.modules.linear.Linear",
            "__torch__.MyModule",
            "__torch__.vad.model.vad_annotator.___torch_mangle_13.VADRNNJIT",
            "__builtin__.long",
            "__builtin__.xrange",
            "__builtin__.slice",
            "__builtin__.hash",
            "UserString.defaultdict",
            "numpy.random.__RandomState_ctor",
            "numpy.matrixlib.defmatrix.matrix",
            "gensim.models.word2vec.Vocab",
            "gensim.models.keyedvectors.Word2VecKeyedVectors",
            "gensim.utils.call_on_class_only",
            "gensim.models.tfidfmodel.df2idf",
            "gensim.corpora.dictionary.Dictionary",
            "gensim.models.ldamodel.LdaState",
            "sklearn.calibration._CalibratedClassifier",
            "sklearn.feature_extraction.text.TfidfVectorizer",
            "pandas.core.frame.DataFrame",
            "pandas.core.indexes.base._new_Index",
            "pandas.core.internals.managers.BlockManager",
            "pandas.core.internals.BlockManager",
            "__torch__.torch.nn.modules.linear.Linear",
        ] {
            assert_eq!(judge(name), Risk::Safe, "{name}");
        }
    }

    #[test]
    fn every_generated_name_is_judged_safe() {
        // The list and the danger rules agree: nothing listed is refused (else it would be a
        // false alarm on the models the list was made for).
        let refused: Vec<_> = ALLOWLIST
            .callables
            .iter()
            .chain(&ALLOWLIST.referenced)
            .filter_map(|name| danger(name).map(|why| format!("{name}: {why}")))
            .collect();
        assert!(refused.is_empty(), "{refused:#?}");
        assert!(ALLOWLIST.callables.len() > 3000);
    }

    #[test]
    fn names_reaching_through_an_allowed_module_are_dangerous() {
        for name in [
            "pathlib.os.system",
            "collections.os.system",
            "numpy.os.system",
            "sklearn.base.os.system",
            "torch.serialization.os.system",
            "numpy.__builtins__.eval",
            "numpy.core.multiarray.__builtins__",
            "torch._dynamo.eval_frame.innermost_fn",
            "torch._inductor.codecache.compile_file",
            "torch.utils.cpp_extension.load_inline",
            "torch.hub.load",
            "pkgutil.resolve_name",
            "operator.methodcaller",
            "operator.attrgetter",
            "_operator.attrgetter",
            "cProfile.run",
            "profile.Profile.runctx",
            "code.InteractiveInterpreter",
            "idlelib.pyshell.ModifiedInterpreter",
            "runpy._run_code",
            "ctypes.CDLL",
            "builtins.getattr",
            "__builtin__.eval",
            "builtins.__import__",
            "numpy.testing._private.utils.runstring",
            "numpy.load",
            "gensim.models.word2vec.Word2Vec.load",
            "uuid._get_command_stdout",
            "numpy.random._pickle.os.system",
            "__torch__.__builtins__.eval",
        ] {
            assert_eq!(judge(name), Risk::Dangerous, "{name}");
        }
        // The same names split as a protocol 4 STACK_GLOBAL writes them.
        assert_eq!(judge_split("pathlib", "os.system"), Risk::Dangerous);
        assert_eq!(judge_split("numpy", "__builtins__.eval"), Risk::Dangerous);
        assert_eq!(
            judge_split(
                "sklearn.linear_model._logistic",
                "LogisticRegression.__init__"
            ),
            Risk::Dangerous
        );
    }

    #[test]
    fn referenced_functions_may_be_named_but_not_called() {
        let identity = Callable {
            module: "gensim.utils".into(),
            name: "identity".into(),
        };
        assert_eq!(risk(&identity), Risk::Safe);
        assert_eq!(risk_call_with(&identity, &BTreeSet::new()), Risk::Unknown);
        let class = Callable {
            module: "gensim.models.word2vec".into(),
            name: "Word2Vec".into(),
        };
        assert_eq!(risk_call_with(&class, &BTreeSet::new()), Risk::Safe);
    }

    #[test]
    fn python_2_names_are_judged_as_python_3_loads_them() {
        assert_eq!(judge("__builtin__.reduce"), Risk::Dangerous); // functools.reduce
        assert_eq!(judge("__builtin__.intern"), Risk::Dangerous); // sys.intern
        assert_eq!(judge("commands.getoutput"), Risk::Dangerous);
        assert_eq!(judge("UserDict.os.system"), Risk::Dangerous);
        assert_eq!(judge("__builtin__.execfile"), Risk::Dangerous);
    }

    #[test]
    fn functions_and_unvetted_classes_are_not_safe() {
        for name in [
            "numpy.memmap",
            "numpy.vectorize",
            "numpy._core._internal._ufunc_reconstruct",
            "builtins.type",
            "builtins.map",
            "sklearn.utils.parallel.delayed",
            "joblib.numpy_pickle.BinaryZlibFile",
            "lightgbm.basic._TempFile",
            "mycompany.models.Net",
            "__main__.Net",
            "pandas.core.computation.expr.Expr",
            "pandas.eval",
        ] {
            assert_ne!(judge(name), Risk::Safe, "{name}");
        }
    }

    #[test]
    fn a_team_may_allow_its_own_classes_but_not_code() {
        let allowed: BTreeSet<String> = ["mycompany.models.Net".to_string()].into();
        let net = Callable {
            module: "mycompany.models".into(),
            name: "Net".into(),
        };
        assert_eq!(risk_with(&net, &allowed), Risk::Allowed);
        assert_eq!(risk(&net), Risk::Unknown);
        assert_eq!(refuse_allow("mycompany.models.Net"), None);
        for name in [
            "os.system",
            "builtins.eval",
            "posix.system",
            "pathlib.os.system",
            "numpy.__builtins__",
            "__main__.Net",
            "mycompany.models.Net.__reduce__",
            "torch._dynamo.x",
            "system",
            "my company.Net",
            "mycompany..Net",
        ] {
            assert!(refuse_allow(name).is_some(), "{name}");
        }
    }
}
