"""modelprov and the reference tools in one process: model_signing 1.1.1 verifies what
modelprov signs and the reverse, both hash a model to the same digest, and huggingface_hub
reads the same card metadata."""

import hashlib
from pathlib import Path

import pytest

import modelprov

model_signing = pytest.importorskip("model_signing")
huggingface_hub = pytest.importorskip("huggingface_hub")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    (folder / "nested").mkdir(parents=True)
    (folder / "config.json").write_text('{"layers": 2}')
    (folder / "weights.bin").write_bytes(bytes(range(256)) * 16)
    (folder / "nested" / "vocab.txt").write_text("a\nb\n")
    return folder


def model_signing_root_digest(model: Path) -> str:
    """The subject digest model_signing signs: SHA-256 over the resource digests in order."""
    manifest = model_signing.hashing.Config().hash(model)
    hasher = hashlib.sha256()
    for descriptor in manifest.resource_descriptors():
        hasher.update(descriptor.digest.digest_value)
    return "sha256:" + hasher.hexdigest()


def test_both_tools_hash_a_model_to_the_same_digest(model: Path) -> None:
    (model / "README.md").write_text("# card\n")
    # model_signing hashes the card with the model; modelprov's identity leaves it out.
    assert modelprov.hash(model, ignore_card=False).digest == model_signing_root_digest(model)
    assert modelprov.hash(model).digest != model_signing_root_digest(model)
    (model / "README.md").unlink()
    assert modelprov.hash(model).digest == model_signing_root_digest(model)


def test_model_signing_verifies_what_modelprov_signs(model: Path, tmp_path: Path) -> None:
    key = tmp_path / "signer.key"
    public = modelprov.keygen(key)
    signature = tmp_path / "model.sig"
    modelprov.sign(model, key=key, output=signature)
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
        model, signature
    )
    (model / "config.json").write_text('{"layers": 3}')
    with pytest.raises(ValueError):
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key=public).verify(
            model, signature
        )


def test_modelprov_verifies_what_model_signing_signs(model: Path, tmp_path: Path) -> None:
    key = tmp_path / "signer.key"
    public = modelprov.keygen(key)
    signature = tmp_path / "model.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=key).sign(model, signature)
    v = modelprov.verify(model, signature=signature, key=public)
    assert v.ok, v
    assert v.actual == model_signing_root_digest(model)
    (model / "nested" / "vocab.txt").write_text("changed\n")
    v = modelprov.verify(model, signature=signature, key=public)
    assert not v.ok and v.modified == ["nested/vocab.txt"]


def test_huggingface_hub_and_modelprov_read_the_same_card(tmp_path: Path) -> None:
    card_data = huggingface_hub.ModelCardData(
        language="en",
        license="apache-2.0",
        library_name="transformers",
        tags=["text-classification"],
        datasets=["imdb"],
    )
    card = huggingface_hub.ModelCard.from_template(card_data, model_id="team/tiny")
    path = tmp_path / "README.md"
    card.save(path)
    ours = modelprov.Card.load(path)
    theirs = huggingface_hub.ModelCard.load(path)
    assert ours.metadata == theirs.data.to_dict()
    assert ours.metadata["license"] == "apache-2.0"
    assert all(f["severity"] != "error" for f in ours.validate()), ours.validate()
