//! Typed warnings: what a caller should know about a result that still stands. A program matches
//! on the variant (to fail a pipeline on an expired certificate, say); `Display` is the message
//! the CLI prints after "warning: " and the Python package passes to `warnings.warn`. In JSON a
//! warning is its message, as before warnings were typed.

use std::fmt;
use std::path::PathBuf;

use crate::digest::RootDigest;
use crate::keys::KeyType;

/// A warning about a model, a signature or a card; the operation it comes from succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// Two files' names differ only by Unicode normalisation, so they look the same.
    LookalikeNames {
        /// The name met first.
        first: String,
        /// The name met later.
        second: String,
    },
    /// A symlink to a folder was skipped: OMS does not descend into them.
    SymlinkToFolderSkipped {
        /// The link's name in the model.
        name: String,
    },
    /// A symlink points outside the model; its target's bytes are hashed under its name.
    SymlinkOutsideModel {
        /// The link's name in the model.
        name: String,
        /// Where it points.
        target: PathBuf,
    },
    /// The digest cache could not be read; every file was hashed.
    CacheNotUsed {
        /// Why, in words.
        problem: String,
    },
    /// The digest cache could not be updated; the result is unaffected.
    CacheNotUpdated {
        /// Why, in words.
        problem: String,
    },
    /// The digest cache could not be opened; every file is hashed (same answer, only slower).
    CacheUnavailable {
        /// Why, in words.
        problem: String,
    },
    /// An ignore path names nothing in the model (ignore paths are relative to the model).
    IgnorePathMatchesNothing {
        /// The ignore path as given.
        path: PathBuf,
        /// The model folder.
        model: PathBuf,
    },
    /// The signing key is not one model_signing accepts (it takes EC keys only).
    KeyNotAcceptedByModelSigning {
        /// The key's type.
        key_type: KeyType,
    },
    /// The signature is of a sharded or non-SHA-256 manifest, which model_signing's CLI cannot
    /// verify (its API can).
    NotVerifiableByModelSigningCli,
    /// A card records no model digest; its signature binds it to the model anyway.
    CardRecordsNoDigest {
        /// The card.
        card: PathBuf,
        /// The model digest the signature binds it to.
        digest: RootDigest,
    },
    /// The signing certificate has expired since it signed; accepted, as validity is checked at
    /// the time of signing (its notBefore), as model_signing does.
    CertificateExpired {
        /// The certificate's subject.
        subject: String,
    },
    /// The signature predates key hints; it verified, but cannot say which key made it.
    NoKeyHint,
    /// Signed by model_signing 0.2, whose DSSE encoding was defective; accepted as model_signing
    /// 1.x accepts it.
    DefectiveLegacyEncoding,
    /// `card init` dropped a field of the existing card, which describes another model (a
    /// copied folder?).
    ForeignCardFieldDropped {
        /// The field path (`provenance.name`).
        field: &'static str,
        /// The model digest the card recorded (the other model's).
        recorded: String,
        /// How to set the field for this model.
        set_with: &'static str,
    },
    /// A weights file could not be read for the card's facts (parameter count, dtype).
    UnreadableWeights {
        /// Why, naming the file.
        problem: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::LookalikeNames { first, second } => write!(
                f,
                "{first:?} and {second:?} are two files whose names differ only by Unicode \
                 normalisation; they look the same"
            ),
            Warning::SymlinkToFolderSkipped { name } => write!(
                f,
                "{name}: symlink to a directory skipped (OMS does not descend into them)"
            ),
            Warning::SymlinkOutsideModel { name, target } => write!(
                f,
                "{name}: symlink points outside the model, to {}; its content is hashed under \
                 the link's name",
                target.display()
            ),
            Warning::CacheNotUsed { problem } => write!(f, "digest cache not used: {problem}"),
            Warning::CacheNotUpdated { problem } => {
                write!(f, "digest cache not updated: {problem}")
            }
            Warning::CacheUnavailable { problem } => {
                write!(f, "hashing without the cache: {problem}")
            }
            Warning::ForeignCardFieldDropped {
                field,
                recorded,
                set_with,
            } => write!(
                f,
                "dropped {field} from the existing card: it describes the model {recorded}, not \
                 this folder (a copied folder?); set it with {set_with}"
            ),
            Warning::IgnorePathMatchesNothing { path, model } => write!(
                f,
                "ignore path {} matches nothing in {} (ignore paths are relative to the model)",
                path.display(),
                model.display()
            ),
            Warning::KeyNotAcceptedByModelSigning { key_type } => write!(
                f,
                "{key_type} signatures verify with modelprov, but model_signing accepts EC keys \
                 (P-256, P-384, P-521) only"
            ),
            Warning::NotVerifiableByModelSigningCli => f.write_str(
                "model_signing's CLI verifies whole-file SHA-256 signatures only; this one \
                 verifies with modelprov and the model_signing API",
            ),
            Warning::CardRecordsNoDigest { card, digest } => write!(
                f,
                "{} records no model digest; the signature binds it to {digest} anyway",
                card.display()
            ),
            Warning::CertificateExpired { subject } => write!(
                f,
                "the signing certificate ({subject}) has expired; accepted because validity is \
                 checked at its notBefore, as model_signing does"
            ),
            Warning::NoKeyHint => f.write_str(
                "the signature uses an older format without a key hint; re-sign it to record one",
            ),
            Warning::DefectiveLegacyEncoding => f.write_str(
                "signed by model_signing 0.2, whose DSSE encoding was defective (accepted as \
                 model_signing 1.x accepts it); re-sign with a current signer",
            ),
            Warning::UnreadableWeights { problem } => f.write_str(problem),
        }
    }
}

impl serde::Serialize for Warning {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_reads_as_its_message_in_text_and_json() {
        let warning = Warning::CertificateExpired {
            subject: "CN=signer".into(),
        };
        let text = warning.to_string();
        assert!(
            text.starts_with("the signing certificate (CN=signer) has expired"),
            "{text}"
        );
        assert_eq!(
            serde_json::to_value(&warning).unwrap(),
            serde_json::json!(text)
        );
    }
}
