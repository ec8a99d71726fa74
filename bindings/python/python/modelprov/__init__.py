"""modelprov: where a machine-learning model came from, and whether it is exactly the bytes it
claims to be.

    >>> import modelprov
    >>> m = modelprov.hash("model/")
    >>> modelprov.keygen("signer.key")
    'signer.key.pub'
    >>> modelprov.sign("model/", key="signer.key", output="model.sig")
    'sha256:...'
    >>> modelprov.verify("model/", signature="model.sig", key="signer.key.pub").ok
    True

Unusable input raises InputError (a ValueError) naming the file and the problem. A model that
is not what it should be is not an exception: ``Verification.ok`` is False, and
``Verification.raise_for_failure()`` raises VerificationError.
"""

from ._modelprov import (
    Card,
    FileScan,
    InputError,
    Manifest,
    Registry,
    ScanReport,
    Verification,
    VerificationError,
    __version__,
    hash,
    keygen,
    sbom,
    scan,
    sign,
    verify,
)

__all__ = [
    "Card",
    "FileScan",
    "InputError",
    "Manifest",
    "Registry",
    "ScanReport",
    "Verification",
    "VerificationError",
    "__version__",
    "hash",
    "keygen",
    "sbom",
    "scan",
    "sign",
    "verify",
]
