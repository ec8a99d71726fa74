"""Type stubs for the native module (checked against it with mypy's stubtest)."""

from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, final
from pathlib import Path

_Path = str | PathLike[str]

__version__: str

class InputError(ValueError):
    code: str
    """What kind of problem: io, model, unstable, invalid_input, database, not_authentic, usage."""
    path: Path | None
    """The file or folder the problem is about, when it is about one."""

class VerificationError(Exception): ...

@final
class Manifest:
    @property
    def digest(self) -> str: ...
    @property
    def resources(self) -> list[tuple[str, str]]: ...
    @property
    def name(self) -> str: ...
    @property
    def serialization(self) -> dict[str, Any]: ...
    @property
    def files(self) -> int: ...
    @property
    def size(self) -> int: ...
    def save(self, path: _Path) -> None: ...
    def to_json(self) -> str: ...

@final
class Verification:
    @property
    def ok(self) -> bool: ...
    @property
    def source(self) -> str: ...
    @property
    def problem(self) -> str | None: ...
    @property
    def signed_by(self) -> str | None: ...
    @property
    def expected(self) -> str | None: ...
    @property
    def actual(self) -> str | None: ...
    @property
    def modified(self) -> list[str]: ...
    @property
    def added(self) -> list[str]: ...
    @property
    def missing(self) -> list[str]: ...
    @property
    def renamed(self) -> list[tuple[str, str]]: ...
    @property
    def not_covered(self) -> list[str]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def raise_for_failure(self) -> None: ...
    def __bool__(self) -> bool: ...

@final
class FileScan:
    @property
    def path(self) -> str: ...
    @property
    def verdict(self) -> str: ...
    @property
    def format(self) -> str: ...
    @property
    def findings(self) -> list[dict[str, Any]]: ...
    @property
    def notes(self) -> list[str]: ...
    @property
    def fails(self) -> bool: ...

@final
class ScanReport:
    @property
    def safe(self) -> bool: ...
    @property
    def files(self) -> list[FileScan]: ...
    def __bool__(self) -> bool: ...

@final
class Card:
    @staticmethod
    def load(path: _Path) -> Card: ...
    @property
    def metadata(self) -> dict[str, Any]: ...
    @property
    def model_digest(self) -> str | None: ...
    def validate(self, *, model: _Path | None = None) -> list[dict[str, Any]]: ...
    def is_valid(self) -> bool: ...
    def completeness(self) -> dict[str, Any]: ...

@final
class Registry:
    def __new__(cls, path: _Path) -> Registry: ...
    @property
    def path(self) -> str: ...
    def record(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        model: _Path | None = None,
        digest: str | None = None,
        parents: Sequence[tuple[str, str]] | None = None,
        datasets: Sequence[tuple[str, str]] | None = None,
        method: str | None = None,
        code_revision: str | None = None,
        trainer: str | None = None,
        metrics: Mapping[str, float] | None = None,
        card: _Path | None = None,
        created: str | None = None,
        key: _Path | None = None,
        passphrase: str | bytes | None = None,
        file: _Path | None = None,
    ) -> dict[str, Any]: ...
    def get(self, id: str) -> dict[str, Any]: ...
    def trace(self, id: str) -> list[dict[str, Any]]: ...
    def descendants(self, id: str) -> list[dict[str, Any]]: ...

def hash(
    path: _Path,
    *,
    algorithm: str = "sha256",
    shard_size: int | None = None,
    ignore: Sequence[_Path] | None = None,
    allow_symlinks: bool = False,
    ignore_git_paths: bool = True,
    ignore_card: bool = True,
) -> Manifest: ...
def keygen(
    path: _Path,
    *,
    type: str = "p256",
    public_key: _Path | None = None,
    passphrase: str | bytes | None = None,
    force: bool = False,
) -> str: ...
def sign(
    path: _Path,
    *,
    key: _Path,
    output: _Path = ...,
    certificate: _Path | None = None,
    certificate_chain: Sequence[_Path] | None = None,
    card: _Path | None = None,
    card_signature: _Path | None = None,
    sbom: _Path | None = None,
    sbom_signature: _Path | None = None,
    passphrase: str | bytes | None = None,
    algorithm: str = "sha256",
    shard_size: int | None = None,
    ignore: Sequence[_Path] | None = None,
    allow_symlinks: bool = False,
) -> str: ...
def verify(
    path: _Path,
    *,
    signature: _Path | None = None,
    key: _Path | None = None,
    certificate_chain: Sequence[_Path] | None = None,
    identity: str | None = None,
    identity_regex: str | None = None,
    issuer: str | None = None,
    staging: bool = False,
    trusted_root: _Path | None = None,
    policy: _Path | None = None,
    model_name: str | None = None,
    manifest: _Path | None = None,
    digest: str | None = None,
    ignore: Sequence[_Path] | None = None,
    ignore_unsigned_files: bool = False,
    card: _Path | None = None,
    card_signature: _Path | None = None,
    sbom: _Path | None = None,
    sbom_signature: _Path | None = None,
    algorithm: str = "sha256",
    shard_size: int | None = None,
) -> Verification: ...
def scan(path: _Path, *, allow: Sequence[str] | None = None) -> ScanReport: ...
def sbom(
    path: _Path,
    *,
    format: str = "cyclonedx",
    spec: str = "1.6",
    card: _Path | None = None,
    registry: _Path | None = None,
    id: str | None = None,
    requirements: Sequence[_Path] | None = None,
    osv: _Path | None = None,
) -> dict[str, Any]: ...
