//! Published scanner bypasses as corpus cases: one file per picklescan security advisory (the
//! callable each advisory reported as missing from a blocklist), and the structural tricks that
//! fooled scanners (memo aliasing, several streams, junk after STOP, nested loaders, method
//! callers). The bytes are written here opcode by opcode; only the advisory's callable is taken
//! from it. An allowlist flags all of these by construction; the cases keep it that way as the
//! allowlist grows (a class allowed must never make its methods, or its module's functions, safe).

use std::path::Path;

use super::corpus::{Label, Sample};

/// picklescan advisories (github.com/mmaitre314/picklescan/security/advisories) and the
/// `module`, `qualified.name` each one calls on load.
const ADVISORIES: &[(&str, &str, &str)] = &[
    (
        "GHSA-4r9r-ch6f-vxmx",
        "torch.utils.bottleneck.__main__",
        "run_cprofile",
    ),
    (
        "GHSA-4whj-rm5r-c2v8",
        "torch.utils.bottleneck.__main__",
        "run_autograd_prof",
    ),
    (
        "GHSA-86cj-95qr-2p4f",
        "torch._dynamo.guards",
        "GuardBuilder.get",
    ),
    (
        "GHSA-f4x7-rfwp-v3xw",
        "torch.fx.experimental.symbolic_shapes",
        "ShapeEnv.evaluate_guards_expression",
    ),
    ("GHSA-f745-w6jp-hpxx", "torch.utils.collect_env", "run"),
    (
        "GHSA-jhph-76pp-mggw",
        "torch.utils.collect_env",
        "run_and_read_all",
    ),
    (
        "GHSA-h3qp-7fh3-f8h4",
        "torch.utils.data.datapipes.utils.decoder",
        "basichandlers",
    ),
    (
        "GHSA-vr7h-p6mm-wpmh",
        "torch.jit.unsupported_tensor_ops",
        "execWrapper",
    ),
    (
        "GHSA-vv6j-3g6g-2pvj",
        "torch.utils._config_module",
        "ConfigModule.load_config",
    ),
    ("GHSA-5qwp-399c-mjwf", "trace", "Trace.run"),
    ("GHSA-g344-hcph-8vgg", "trace", "Trace.runctx"),
    ("GHSA-x696-vm39-cp64", "profile", "Profile.run"),
    ("GHSA-6vqj-c2q5-j97w", "profile", "Profile.runctx"),
    ("GHSA-9w88-8rmg-7g2p", "cProfile", "runctx"),
    ("GHSA-49gj-c84q-6qm9", "cProfile", "run"),
    (
        "GHSA-f54q-57x4-jg88",
        "lib2to3.pgen2.grammar",
        "Grammar.loads",
    ),
    (
        "GHSA-p9w7-82w4-7q8m",
        "lib2to3.pgen2.pgen",
        "ParserGenerator.make_label",
    ),
    (
        "GHSA-3vg9-h568-4w9m",
        "idlelib.debugobj",
        "ObjectTreeItem.SetText",
    ),
    (
        "GHSA-6w4w-5w54-rjvr",
        "idlelib.autocomplete",
        "AutoComplete.get_entity",
    ),
    (
        "GHSA-7cq8-mj8x-j263",
        "idlelib.autocomplete",
        "AutoComplete.fetch_completions",
    ),
    (
        "GHSA-8r4j-24qv-fmq9",
        "idlelib.calltip",
        "Calltip.fetch_tip",
    ),
    ("GHSA-9xph-j2h6-g47v", "idlelib.calltip", "get_entity"),
    ("GHSA-m869-42cg-3xwr", "idlelib.run", "Executive.runcode"),
    (
        "GHSA-j343-8v2j-ff7w",
        "idlelib.pyshell",
        "ModifiedInterpreter.runcommand",
    ),
    (
        "GHSA-3gf5-cxq9-w223",
        "idlelib.pyshell",
        "ModifiedInterpreter.runcode",
    ),
    (
        "GHSA-cj3c-v495-4xqh",
        "code",
        "InteractiveInterpreter.runcode",
    ),
    ("GHSA-fqq6-7vqf-w3fg", "doctest", "debug_script"),
    ("GHSA-xp4f-hrf8-rxw7", "ensurepip", "_run_pip"),
    (
        "GHSA-q77w-mwjj-7mqx",
        "asyncio.unix_events",
        "_UnixSubprocessTransport._start",
    ),
    ("GHSA-m273-6v24-x4m4", "distutils.file_util", "write_file"),
    ("GHSA-4675-36f9-wf6r", "ctypes", "CDLL"),
    ("GHSA-vqmv-47xg-9wpr", "pty", "spawn"),
    (
        "GHSA-r8g5-cgf2-4m4m",
        "numpy.f2py.crackfortran",
        "getlincoef",
    ),
    ("GHSA-vvpj-8cmc-gx39", "pkgutil", "resolve_name"),
    ("GHSA-7wx9-6375-f5wh", "profile", "run"),
    ("GHSA-g38g-8gr9-h9xp-uuid", "uuid", "_get_command_stdout"),
    (
        "GHSA-g38g-8gr9-h9xp-osx-support",
        "_osx_support",
        "_read_output",
    ),
    (
        "GHSA-g38g-8gr9-h9xp-aix-support",
        "_aix_support",
        "_read_cmd_output",
    ),
    ("GHSA-g38g-8gr9-h9xp-imaplib", "imaplib", "IMAP4_stream"),
    (
        "GHSA-g38g-8gr9-h9xp-pyrepl-pager",
        "_pyrepl.pager",
        "pipe_pager",
    ),
    (
        "GHSA-g38g-8gr9-h9xp-test",
        "test.support.script_helper",
        "assert_python_ok",
    ),
    ("GHSA-955r-x9j8-7rhh", "_operator", "attrgetter"),
    ("GHSA-46h3-79wf-xr6c", "_operator", "methodcaller"),
    // Earlier blocklist gaps, from picklescan's own test data.
    ("picklescan-runpy", "runpy", "_run_code"),
    ("picklescan-bdb", "bdb", "Bdb.run"),
    ("picklescan-pip", "pip", "main"),
    (
        "picklescan-inductor",
        "torch._inductor.codecache",
        "compile_file",
    ),
    ("picklescan-pydoc-pipepager", "pydoc", "pipepager"),
    ("picklescan-venv", "venv", "create"),
    ("picklescan-timeit", "timeit", "timeit"),
    (
        "picklescan-numpy-runstring",
        "numpy.testing._private.utils",
        "runstring",
    ),
    ("picklescan-io-fileio", "io", "FileIO"),
    ("picklescan-urlopen", "urllib.request", "urlopen"),
    ("picklescan-logging-filehandler", "logging", "FileHandler"),
    // Names that reach a dangerous module through an innocent-looking one.
    ("reach-through-pathlib", "pathlib", "os.system"),
    ("reach-through-numpy-builtins", "numpy", "__builtins__.eval"),
    ("reach-through-collections", "collections", "os.system"),
    (
        "reach-through-torch-serialization",
        "torch.serialization",
        "pickle.loads",
    ),
];

/// Protocol 4 (what `pickle.dump` writes): `module`, `name` by STACK_GLOBAL, called with one
/// string argument.
fn stack_global_call(module: &str, name: &str) -> Vec<u8> {
    let mut data = vec![0x80, 0x04];
    for text in [module, name] {
        data.push(0x8c); // SHORT_BINUNICODE
        data.push(u8::try_from(text.len()).expect("short name"));
        data.extend_from_slice(text.as_bytes());
        data.push(0x94); // MEMOIZE
    }
    data.push(0x93); // STACK_GLOBAL
    data.extend_from_slice(b"\x8c\x06whoami\x85R."); // ("whoami",) REDUCE STOP
    data
}

/// Appends every advisory and trick as a malicious sample.
pub fn add_samples(dir: &Path, samples: &mut Vec<Sample>) {
    let mut add =
        |name: String, bytes: Vec<u8>, technique: &'static str, expected: &'static str| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            samples.push(Sample {
                path,
                label: Label::Malicious,
                technique,
                expected,
            });
        };
    for &(id, module, name) in ADVISORIES {
        // The technique and expected text must be 'static: advisories are constants.
        let technique: &'static str = Box::leak(format!("{id}: {module}.{name}").into_boxed_str());
        let expected: &'static str = Box::leak(format!("{module}.{name}").into_boxed_str());
        add(
            format!("{id}.pkl"),
            stack_global_call(module, name),
            technique,
            expected,
        );
    }

    // picklescan issue 22: the names reach STACK_GLOBAL through memo slots that an innocent
    // pair (torch, LongStorage) was also stored in; a scanner that reads names from the last
    // strings pushed sees torch.LongStorage.
    add(
        "memo-aliasing.pkl".into(),
        b"Vos\np2\n0Vsystem\np3\n0Vtorch\np0\n0VLongStorage\np1\n0g2\ng3\n\x93(Vcat flag.txt\ntR."
            .to_vec(),
        "memo aliasing before STACK_GLOBAL (picklescan issue 22)",
        "os.system",
    );
    // Protocol 4 with junk after STOP (picklescan's malicious-invalid-bytes).
    add(
        "junk-after-stop.pkl".into(),
        [stack_global_call("os", "system"), b"\n\n\t\t".to_vec()].concat(),
        "payload then junk after STOP",
        "os.system",
    );
    // A benign pickle, then a second stream that runs code.
    add(
        "second-stream.pkl".into(),
        [
            b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00]\x94(K\x01K\x02e.".to_vec(),
            stack_global_call("subprocess", "run"),
        ]
        .concat(),
        "benign pickle followed by a malicious stream",
        "subprocess.run",
    );
    // A loader inside the pickle: pickle.loads of further bytes (picklescan malicious13).
    add(
        "nested-loads.pkl".into(),
        b"\x80\x04\x8c\x07_pickle\x94\x8c\x05loads\x94\x93C\x08I12345\n.\x85R.".to_vec(),
        "pickle.loads of an inner pickle",
        "_pickle.loads",
    );
    // functools.partial(torch.load, path): the partial is harmless, what it wraps is not.
    add(
        "partial-torch-load.pkl".into(),
        b"\x80\x04\x8c\tfunctools\x94\x8c\x07partial\x94\x93\x8c\x05torch\x94\x8c\x04load\x94\x93\x8c\x07evil.pt\x86R)R."
            .to_vec(),
        "functools.partial over torch.load",
        "torch.load",
    );
    // methodcaller("system", cmd)(pydoc.locate("os")) (GHSA-84r2-jw7c-4r5q).
    add(
        "GHSA-84r2-jw7c-4r5q.pkl".into(),
        b"\x80\x04\x8c\x08operator\x94\x8c\x0cmethodcaller\x94\x93\x8c\x06system\x8c\x02id\x86R\x8c\x05pydoc\x8c\x06locate\x93\x8c\x02os\x85R\x85R."
            .to_vec(),
        "GHSA-84r2-jw7c-4r5q: operator.methodcaller on pydoc.locate('os')",
        "pydoc.locate",
    );
    // joblib < 0.10 keeps arrays in side files that its loader opens with allow_pickle=True,
    // by the name in the wrapper's state joined to the dump's folder: an absolute name loads
    // (and unpickles) a file the scan of the model never sees.
    let unicode = |text: &str| {
        let mut op = vec![b'X'];
        op.extend_from_slice(&u32::try_from(text.len()).unwrap().to_le_bytes());
        op.extend_from_slice(text.as_bytes());
        op
    };
    add(
        "joblib-side-file-outside.pkl".into(),
        [
            b"\x80\x02cjoblib.numpy_pickle\nNDArrayWrapper\n)\x81}(".to_vec(),
            unicode("filename"),
            unicode("/tmp/elsewhere/weights.npy"),
            b"ub.".to_vec(),
        ]
        .concat(),
        "old joblib wrapper whose side file is outside the dump's folder",
        "outside the dump's folder",
    );
    // INST with a protocol 0 exec (picklescan malicious10), and the 2011 "Sour Pickles" chain.
    add(
        "inst-exec.pkl".into(),
        b"(S'raise RuntimeError(\"Injection running\")'\ni__builtin__\nexec\n.".to_vec(),
        "INST __builtin__.exec, protocol 0",
        "__builtin__.exec",
    );
    add(
        "sour-pickles.pkl".into(),
        b"c__builtin__\nglobals\n(tRp100\n0c__builtin__\ncompile\n(S'x=1'\nS''\nS'exec'\ntRp101\n0c__builtin__\neval\n(g101\ng100\ntRp102\n0g102\n."
            .to_vec(),
        "globals/compile/eval chain (Sour Pickles, 2011)",
        "__builtin__.eval",
    );
}
