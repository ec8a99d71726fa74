//! Corpus cases for the generated allowlist: pickles shaped like the ones scikit-learn, NumPy 1
//! and 2, gensim, omegaconf and TorchScript write (all benign), and names that reach code
//! through an allowed module (all malicious). Written opcode by opcode, like corpus.rs.

use std::path::{Path, PathBuf};

use super::{EMPTY_TUPLE, Label, MARK, NEWFALSE, Pickle, REDUCE, SETITEMS, TUPLE, TUPLE1, write};

const NEWOBJ: &[u8] = b"\x81";
const EMPTY_DICT: &[u8] = b"}";
const BUILD: &[u8] = b"b";
const NEWTRUE: &[u8] = b"\x88";
const TUPLE3: &[u8] = b"\x87";
const STACK_GLOBAL: &[u8] = b"\x93";

fn bytes(p: Pickle, data: &[u8]) -> Pickle {
    let mut op = vec![b'C', data.len() as u8];
    op.extend_from_slice(data);
    p.op(&op)
}

/// `numpy.dtype('f8', False, True)` as NumPy pickles it, from `module` (numpy or numpy._core...).
fn dtype(p: Pickle) -> Pickle {
    p.global("numpy", "dtype")
        .text("f8")
        .op(NEWFALSE)
        .op(NEWTRUE)
        .op(TUPLE3)
        .op(REDUCE)
}

/// A two-float array as `ndarray.__reduce__` writes it: `_reconstruct(ndarray, (0,), b'b')` then
/// BUILD with (version, shape, dtype, fortran, data).
fn array(p: Pickle, core: &str) -> Pickle {
    let p = p
        .global(&format!("{core}.multiarray"), "_reconstruct")
        .global("numpy", "ndarray")
        .int(0)
        .op(TUPLE1);
    let p = bytes(p, b"b")
        .op(TUPLE3)
        .op(REDUCE)
        .op(MARK)
        .int(1)
        .int(2)
        .op(TUPLE1);
    let p = dtype(p).op(NEWFALSE);
    bytes(p, &[0u8; 16]).op(TUPLE).op(BUILD)
}

/// `cls.__new__(cls)` then BUILD with {key: value-written-by-`fill`}.
fn object(
    p: Pickle,
    module: &str,
    name: &str,
    key: &str,
    fill: impl FnOnce(Pickle) -> Pickle,
) -> Pickle {
    let p = p
        .global(module, name)
        .op(EMPTY_TUPLE)
        .op(NEWOBJ)
        .op(EMPTY_DICT)
        .op(MARK)
        .text(key);
    fill(p).op(SETITEMS).op(BUILD)
}

pub fn samples(dir: &Path, add: &mut impl FnMut(PathBuf, Label, &'static str, &'static str)) {
    let benign: [(&str, Vec<u8>, &'static str); 7] = [
        (
            "benign-sklearn-logistic.pkl",
            object(
                Pickle::proto(4),
                "sklearn.linear_model._logistic",
                "LogisticRegression",
                "coef_",
                |p| array(p, "numpy.core"),
            )
            .stop(),
            "scikit-learn estimator by its defining module, NumPy 1 array",
        ),
        (
            "benign-sklearn-numpy2.pkl",
            object(
                Pickle::proto(4),
                "sklearn.tree._classes",
                "DecisionTreeClassifier",
                "tree_",
                |p| {
                    let p = p.global("sklearn.tree._tree", "Tree").int(2);
                    array(p, "numpy._core").int(1).op(TUPLE3).op(REDUCE)
                },
            )
            .stop(),
            "scikit-learn tree (Cython Tree class), NumPy 2 array",
        ),
        (
            "benign-numpy2-frombuffer.pkl",
            {
                let p = Pickle::proto(5)
                    .global("numpy._core.numeric", "_frombuffer")
                    .op(MARK);
                let p = dtype(bytes(p, &[0u8; 8]));
                p.int(1).op(TUPLE1).text("C").op(TUPLE).op(REDUCE).stop()
            },
            "NumPy 2 protocol 5 array (_frombuffer)",
        ),
        (
            "benign-gensim-keyedvectors.pkl",
            object(
                Pickle::proto(2),
                "gensim.models.keyedvectors",
                "KeyedVectors",
                "vectors",
                |p| array(p, "numpy.core"),
            )
            .stop(),
            "gensim KeyedVectors",
        ),
        (
            "benign-omegaconf.pkl",
            object(
                Pickle::proto(2),
                "omegaconf.dictconfig",
                "DictConfig",
                "_metadata",
                |p| {
                    object(p, "omegaconf.base", "ContainerMetadata", "ref_type", |p| {
                        p.global("typing", "Any")
                    })
                },
            )
            .stop(),
            "Lightning hyper-parameters as omegaconf containers",
        ),
        (
            "benign-datetime.pkl",
            bytes(
                Pickle::proto(2).global("datetime", "datetime"),
                &[7, 234, 12, 2, 1, 0, 0, 0, 0, 0],
            )
            .op(TUPLE1)
            .op(REDUCE)
            .stop(),
            "datetime.datetime",
        ),
        (
            "benign-torchscript-data.pkl",
            object(Pickle::proto(2), "__torch__", "Net", "training", |p| {
                p.global("torch.jit._pickle", "restore_type_tag")
                    .op(EMPTY_DICT)
                    .text("Dict[str, Tensor]")
                    .op(b"\x86")
                    .op(REDUCE)
            })
            .stop(),
            "TorchScript data.pkl: __torch__ class and torch.jit._pickle helper",
        ),
    ];
    for (name, data, technique) in benign {
        add(write(dir, name, &data), Label::Benign, technique, "");
    }

    // Names that reach code through a module the allowlist trusts, as protocol 4 writes them.
    let through = |module: &str, name: &str| {
        Pickle::proto(4)
            .text(module)
            .text(name)
            .op(STACK_GLOBAL)
            .text("id")
            .op(TUPLE1)
            .op(REDUCE)
            .stop()
    };
    for (file, data, technique, expected) in [
        (
            "mal-pathlib-os-system.pkl",
            through("pathlib", "os.system"),
            "os.system reached through pathlib (an allowed module)",
            "Dangerous pathlib.os.system",
        ),
        (
            "mal-numpy-builtins.pkl",
            through("numpy", "__builtins__.eval"),
            "eval reached through numpy.__builtins__",
            "Dangerous numpy.__builtins__.eval",
        ),
        (
            "mal-sklearn-os-system.pkl",
            through("sklearn.base", "os.system"),
            "os.system reached through a scikit-learn module",
            "Dangerous sklearn.base.os.system",
        ),
        (
            "mal-numpy-runstring.pkl",
            through("numpy.testing._private.utils", "runstring"),
            "numpy.testing's runstring (exec)",
            "Dangerous numpy.testing._private.utils.runstring",
        ),
        (
            "mal-cprofile-run.pkl",
            through("cProfile", "run"),
            "cProfile.run (exec of a string)",
            "Dangerous cProfile.run",
        ),
        (
            "mal-pkgutil-resolve.pkl",
            through("pkgutil", "resolve_name"),
            "pkgutil.resolve_name (imports any name)",
            "Dangerous pkgutil.resolve_name",
        ),
        (
            "mal-torch-dynamo.pkl",
            through("torch._dynamo.eval_frame", "innermost_fn"),
            "torch._dynamo internals",
            "Dangerous torch._dynamo.eval_frame.innermost_fn",
        ),
        (
            "mal-gensim-load.pkl",
            through("gensim.models.word2vec", "Word2Vec.load"),
            "a nested loader reached as an allowed class's attribute",
            "Dangerous gensim.models.word2vec.Word2Vec.load",
        ),
    ] {
        add(
            write(dir, file, &data),
            Label::Malicious,
            technique,
            expected,
        );
    }
}
