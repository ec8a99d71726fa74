"""The Python API as users call it: hash, keygen, sign, verify, scan and cards, with the
verdicts and errors a script acts on."""

import json
import os
import pickle
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

import modelprov

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "tiny-model"
HISTORY = REPO / "crates/modelprov-cli/tests/fixtures/oms-history/cases"


def modelprov_cli(*args: str) -> subprocess.CompletedProcess:
    binary = os.environ.get("MODELPROV_BIN", str(REPO / "target/debug/modelprov"))
    return subprocess.run([binary, *args], capture_output=True, text=True)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (folder / "sub").mkdir()
    (folder / "sub" / "tokenizer.json").write_text("{}")
    (folder / "README.md").write_text("---\nlicense: mit\n---\n# tiny\n")
    return folder


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / "signer.key"
    public = modelprov.keygen(private)
    return private, Path(public)


def test_hash_gives_the_cli_digest_and_every_resource(model: Path) -> None:
    m = modelprov.hash(model)
    cli = modelprov_cli("hash", str(model), "--quiet")
    assert cli.returncode == 0, cli.stderr
    assert m.digest == cli.stdout.strip()
    assert m.digest.startswith("sha256:") and len(m.digest) == 7 + 64
    names = [name for name, _ in m.resources]
    # README.md (the card) is not part of the model's identity.
    assert names == ["config.json", "sub/tokenizer.json", "weights.bin"]
    for _, digest in m.resources:
        assert digest.startswith("sha256:")
    assert m.files == 3 and m.name == "model"


def test_hash_options_take_effect(model: Path) -> None:
    plain = modelprov.hash(model)
    assert modelprov.hash(model, ignore=["sub"]).digest != plain.digest
    assert [n for n, _ in modelprov.hash(model, ignore=["sub"]).resources] == [
        "config.json",
        "weights.bin",
    ]
    with_card = modelprov.hash(model, ignore_card=False)
    assert "README.md" in [n for n, _ in with_card.resources]
    sharded = modelprov.hash(model, shard_size=4096)
    assert any(n.startswith("weights.bin:0:4096") for n, _ in sharded.resources)
    blake = modelprov.hash(model, algorithm="blake3")
    assert blake.resources[0][1].startswith("blake3:")
    with pytest.raises(modelprov.InputError, match="md5"):
        modelprov.hash(model, algorithm="md5")


def test_a_saved_manifest_names_what_changed(model: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "model.manifest.json"
    modelprov.hash(model).save(manifest)
    assert json.loads(manifest.read_text())
    assert modelprov.verify(model, manifest=manifest).ok

    (model / "config.json").write_text('{"hidden_size": 9}')
    (model / "extra.bin").write_bytes(b"x")
    (model / "sub" / "tokenizer.json").rename(model / "sub" / "vocab.json")
    v = modelprov.verify(model, manifest=manifest)
    assert not v.ok and not bool(v)
    assert v.modified == ["config.json"]
    assert v.added == ["extra.bin"]
    assert v.renamed == [("sub/tokenizer.json", "sub/vocab.json")]
    assert v.missing == []
    with pytest.raises(modelprov.VerificationError, match="config.json"):
        v.raise_for_failure()


def test_a_digest_is_matched_or_not(model: Path) -> None:
    digest = modelprov.hash(model).digest
    v = modelprov.verify(model, digest=digest)
    assert v.ok and v.expected == digest == v.actual
    v.raise_for_failure()
    (model / "weights.bin").write_bytes(b"other")
    v = modelprov.verify(model, digest=digest)
    assert not v.ok and v.actual != digest
    assert v.modified == []  # a bare digest cannot say which file


def test_sign_then_verify_and_every_kind_of_change_fails(model: Path, keys, tmp_path: Path) -> None:
    private, public = keys
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    signature = tmp_path / "model.sig"
    digest = modelprov.sign(model, key=private, output=signature)
    assert digest == modelprov.hash(model).digest
    v = modelprov.verify(model, signature=signature, key=public)
    assert v.ok, v
    assert v.signed_by and "key" in v.signed_by
    assert v.not_covered == ["README.md"]

    (model / "weights.bin").write_bytes(b"tampered")
    (model / "config.json").unlink()
    v = modelprov.verify(model, signature=signature, key=public)
    assert not v.ok
    assert v.modified == ["weights.bin"] and v.missing == ["config.json"]


def test_a_signature_by_another_key_is_a_failed_verdict_not_an_exception(
    model: Path, keys, tmp_path: Path
) -> None:
    private, _ = keys
    signature = tmp_path / "model.sig"
    modelprov.sign(model, key=private, output=signature)
    other = Path(modelprov.keygen(tmp_path / "other.key"))
    v = modelprov.verify(model, signature=signature, key=other)
    assert not v.ok
    assert v.problem and "model.sig" in v.problem
    assert v.modified == [] and v.actual is None
    with pytest.raises(modelprov.VerificationError):
        v.raise_for_failure()


def test_a_signature_inside_the_model_is_left_out_of_it(model: Path, keys) -> None:
    private, public = keys
    signature = model / "model.sig"
    modelprov.sign(model, key=private, output=signature)
    assert modelprov.verify(model, signature=signature, key=public).ok


def test_unusable_input_raises_input_error_naming_the_file(model: Path, keys, tmp_path: Path) -> None:
    private, public = keys
    assert issubclass(modelprov.InputError, ValueError)
    with pytest.raises(modelprov.InputError, match="no-such-folder"):
        modelprov.hash(tmp_path / "no-such-folder")
    broken = tmp_path / "broken.sig"
    broken.write_text("{not json")
    with pytest.raises(modelprov.InputError, match="broken.sig") as raised:
        modelprov.verify(model, signature=broken, key=public)
    assert raised.value.code == "invalid_input"
    assert raised.value.path == broken
    with pytest.raises(modelprov.InputError, match="exactly one"):
        modelprov.verify(model)
    digest = modelprov.hash(model).digest
    manifest = tmp_path / "m.json"
    modelprov.hash(model).save(manifest)
    # Every option takes effect or is refused.
    for kwargs, words in [
        ({"digest": digest, "key": public}, "key goes with signature"),
        ({"digest": digest, "staging": True}, "staging goes with signature"),
        ({"manifest": manifest, "model_name": "m"}, "model_name goes with signature"),
        ({"manifest": manifest, "ignore": ["sub"]}, "manifest records its own"),
        ({"signature": broken, "key": public, "card_signature": broken}, "card_signature goes with card"),
        ({"signature": broken, "key": public, "model_name": "m"}, "model_name goes with policy"),
        ({"signature": broken, "certificate_chain": [public], "staging": True}, "go with identity or key"),
        ({"signature": broken, "key": public, "staging": True, "trusted_root": broken}, "give one"),
    ]:
        with pytest.raises(modelprov.InputError, match=words):
            modelprov.verify(model, **kwargs)
    with pytest.raises(modelprov.InputError, match="sbom_signature goes with sbom"):
        modelprov.sign(model, key=private, output=tmp_path / "x.sig", sbom_signature=tmp_path / "s.sig")
    with pytest.raises(modelprov.InputError, match="issuer"):
        modelprov.verify(model, signature=broken, identity="me@example.com")
    with pytest.raises(modelprov.InputError, match="--force"):
        modelprov.keygen(private)
    with pytest.raises(modelprov.InputError, match="key type"):
        modelprov.keygen(tmp_path / "x.key", type="dsa")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(modelprov.InputError, match="no files"):
        modelprov.sign(empty, key=private, output=tmp_path / "e.sig")
    assert not (tmp_path / "e.sig").exists()


def test_signing_refuses_to_overwrite_its_inputs(model: Path, keys) -> None:
    private, _ = keys
    before = private.read_bytes()
    with pytest.raises(modelprov.InputError):
        modelprov.sign(model, key=private, output=private)
    assert private.read_bytes() == before


def test_encrypted_keys_need_their_passphrase(model: Path, tmp_path: Path) -> None:
    key = tmp_path / "locked.key"
    public = modelprov.keygen(key, passphrase="correct horse")
    assert "ENCRYPTED" in key.read_text()
    with pytest.raises(modelprov.InputError):
        modelprov.sign(model, key=key, output=tmp_path / "m.sig")
    modelprov.sign(model, key=key, output=tmp_path / "m.sig", passphrase=b"correct horse")
    assert modelprov.verify(model, signature=tmp_path / "m.sig", key=public).ok


def test_warnings_are_python_warnings(model: Path, tmp_path: Path) -> None:
    key = tmp_path / "ed.key"
    public = modelprov.keygen(key, type="ed25519")
    with pytest.warns(UserWarning, match="model_signing accepts EC keys"):
        modelprov.sign(model, key=key, output=tmp_path / "m.sig")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert modelprov.verify(model, signature=tmp_path / "m.sig", key=public).ok


def test_a_card_is_signed_with_the_model_and_checked_with_it(model: Path, keys, tmp_path: Path) -> None:
    private, public = keys
    signature = tmp_path / "model.sig"
    card = model / "README.md"
    with pytest.warns(UserWarning, match="records no model digest"):
        modelprov.sign(model, key=private, output=signature, card=card)
    assert (tmp_path / "model.card.sig").is_file()
    assert modelprov.verify(model, signature=signature, key=public, card=card).ok
    # A card changed since signing: the model's bytes are fine, the verdict is still no.
    card.write_text("---\nlicense: apache-2.0\n---\n# changed\n")
    v = modelprov.verify(model, signature=signature, key=public, card=card)
    assert not v.ok and "model.card.sig" in v.problem


def test_keyless_signatures_verify_offline_by_identity_and_issuer() -> None:
    case = HISTORY / "py-v1.1.0-sigstore"
    facts = json.loads((case / "case.json").read_text())
    v = modelprov.verify(
        case / facts["model_path"],
        signature=case / "model.sig",
        identity=facts["identity"],
        issuer=facts["issuer"],
    )
    assert v.ok, v
    assert facts["identity"] in v.signed_by
    wrong = modelprov.verify(
        case / facts["model_path"],
        signature=case / "model.sig",
        identity="someone-else@example.com",
        issuer=facts["issuer"],
    )
    assert not wrong.ok and wrong.problem
    pattern = modelprov.verify(
        case / facts["model_path"],
        signature=case / "model.sig",
        identity_regex=r".*@us\.ibm\.com",
        issuer=facts["issuer"],
    )
    assert pattern.ok


def test_scan_flags_code_that_runs_on_load(tmp_path: Path) -> None:
    folder = tmp_path / "scanned"
    folder.mkdir()
    (folder / "weights.pkl").write_bytes(pickle.dumps({"w": [1.0, 2.0]}))
    report = modelprov.scan(folder)
    assert report.safe and bool(report)
    assert [(Path(f.path).name, f.verdict) for f in report.files] == [("weights.pkl", "safe")]

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    (folder / "evil.pkl").write_bytes(pickle.dumps(Payload()))
    report = modelprov.scan(folder)
    assert not report.safe
    evil = [f for f in report.files if f.path.endswith("evil.pkl")][0]
    assert evil.verdict == "unsafe" and evil.fails
    assert any("system" in json.dumps(finding) for finding in evil.findings)
    with pytest.raises(modelprov.InputError, match="no policy can allow it"):
        modelprov.scan(folder, allow=["posix.system"])
    (folder / "evil.pkl").unlink()

    # A team's own class is flagged until the team allows it.
    (folder / "layer.pkl").write_bytes(b"\x80\x02cmylib.layers\nDense\nq\x00)\x81q\x01.")
    assert not modelprov.scan(folder).safe
    assert modelprov.scan(folder, allow=["mylib.layers.Dense"]).safe
    with pytest.raises(modelprov.InputError):
        modelprov.scan(tmp_path / "missing")


def test_cards_load_validate_and_check_the_model(tmp_path: Path) -> None:
    model = tmp_path / "tiny"
    shutil.copytree(EXAMPLE, model)
    card = modelprov.Card.load(model / "README.md")
    assert isinstance(card.metadata, dict)
    findings = card.validate()
    assert isinstance(findings, list)
    assert all({"severity", "message"} <= set(f) for f in findings)
    checked = card.validate(model=model)
    if card.model_digest is None:
        assert len(checked) >= len(findings)
    assert "score" in json.dumps(card.completeness()) or card.completeness()
    bad = tmp_path / "bad.md"
    bad.write_text("---\nlicense: [unclosed\n---\n")
    with pytest.raises(modelprov.InputError, match="bad.md"):
        modelprov.Card.load(bad)


def test_the_gil_is_released_while_hashing(tmp_path: Path) -> None:
    import threading
    import time

    folder = tmp_path / "big"
    folder.mkdir()
    # 1 GiB in sparse files: nothing to write or read from disk, yet every byte is hashed, so the
    # hash takes long enough to tell on a fast machine (128 MB of random bytes took 49 ms once).
    for i in range(4):
        with open(folder / f"w{i}.bin", "wb") as f:
            f.write(os.urandom(4096))
            f.truncate(256 << 20)
    wakeups: list[float] = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            time.sleep(0.001)
            wakeups.append(time.perf_counter())

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.05)
    try:
        start = time.perf_counter()
        modelprov.hash(folder)
        end = time.perf_counter()
    finally:
        done.set()
        ticker.join()
    during = [start] + [t for t in wakeups if start <= t <= end] + [end]
    longest = max(b - a for a, b in zip(during, during[1:]))
    # A thread that sleeps 1 ms needs the GIL to wake up: had the hash held it, the longest
    # gap would be the whole hash.
    assert end - start > 0.05, "hash too fast to tell"
    assert longest < (end - start) / 2, (longest, end - start)


def test_the_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("## Python") :]
    example = section[section.index("```python\n") + len("```python\n") :]
    example = example[: example.index("```")]
    assert "modelprov.sign(" in example and "modelprov.verify(" in example
    run = subprocess.run(
        [os.environ.get("PYTHON", __import__("sys").executable), "-c", example],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[-2].startswith("True key ") and lines[-2].endswith(" True ['tiny']"), run.stdout
    assert lines[-1] == "['config.json']", run.stdout


def test_a_registry_records_signed_lineage_and_traces_it(model: Path, keys, tmp_path: Path) -> None:
    private, public = keys
    registry = tmp_path / "registry.sqlite"
    reg = modelprov.Registry(registry)
    base = reg.record(name="base", version="1.0.0", model=model, key=private)
    assert base["digest"] == modelprov.hash(model).digest
    tuned_model = tmp_path / "tuned"
    shutil.copytree(model, tuned_model)
    (tuned_model / "weights.bin").write_bytes(b"tuned weights")
    tuned = reg.record(
        name="tuned",
        version="1.1.0",
        model=tuned_model,
        parents=[("finetune", "base@1.0.0")],
        metrics={"accuracy": 0.91},
        key=private,
    )
    assert tuned["parents"][0]["digest"] == base["digest"]
    trace = reg.trace("tuned@1.1.0")
    assert [(r["name"], r["version"]) for r in trace] == [("tuned", "1.1.0"), ("base", "1.0.0")]
    assert [r["name"] for r in reg.descendants("base")] == ["base", "tuned"]
    assert reg.get("tuned")["metrics"] == {"accuracy": 0.91}
    # The same record again changes nothing; the CLI sees what Python recorded, signed.
    assert reg.record(name="base", version="1.0.0", model=model, key=private) == base
    cli = modelprov_cli("lineage", "verify", "tuned@1.1.0", "--registry", str(registry), "--key", str(public))
    assert cli.returncode == 0, cli.stdout + cli.stderr
    # The model as recorded verifies by id; a parent that is not recorded is refused.
    assert modelprov_cli("verify", str(tuned_model), "--id", "tuned@1.1.0", "--registry", str(registry)).returncode == 0
    with pytest.raises(modelprov.InputError, match="nobody@1.0"):
        reg.record(name="x", version="1", model=model, parents=[("finetune", "nobody@1.0")])
    with pytest.raises(modelprov.InputError, match="relation"):
        reg.record(name="x", version="1", model=model, parents=[("stolen", "base@1.0.0")])
    with pytest.raises(modelprov.InputError, match="no model 'ghost'"):
        reg.trace("ghost")


def test_sboms_are_the_cli_documents_and_pass_the_official_validators(
    model: Path, keys, tmp_path: Path, monkeypatch
) -> None:
    private, _ = keys
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")
    registry = tmp_path / "registry.sqlite"
    modelprov.Registry(registry).record(name="tiny", version="2.0.0", model=model, key=private)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("torch==2.5.1\nnumpy>=1.26\n")
    shared = REPO.parent / "shared" / "schemas"
    for fmt, spec, validator in [
        ("cyclonedx", "1.6", "validate_cdx.py"),
        ("cyclonedx", "1.7", "validate_cdx.py"),
        ("spdx", "1.6", "validate_spdx3.py"),
    ]:
        document = modelprov.sbom(
            model, format=fmt, spec=spec, registry=registry, requirements=[requirements]
        )
        cli = modelprov_cli(
            "sbom", "generate", str(model), "--format", fmt, "--spec", spec,
            "--registry", str(registry), "--requirements", str(requirements), "--quiet",
        )
        assert cli.returncode == 0, cli.stderr
        assert document == json.loads(cli.stdout)
        text = json.dumps(document)
        assert modelprov.hash(model).digest.split(":")[1] in text
        assert "torch" in text and "2.0.0" in text
        written = tmp_path / f"bom-{fmt}-{spec}.json"
        written.write_text(text)
        if (shared / validator).is_file():
            check = subprocess.run(
                [__import__("sys").executable, str(shared / validator), str(written)],
                capture_output=True, text=True,
            )
            assert check.returncode == 0, check.stdout + check.stderr
    with pytest.raises(modelprov.InputError, match="not a model folder"):
        modelprov.sbom(model / "config.json")
    with pytest.raises(modelprov.InputError, match="format"):
        modelprov.sbom(model, format="swid")
