//! Detached signatures over a byte stream (a whole file), in the forms other tools produce:
//! `openssl dgst -sha256 -sign` (ECDSA over SHA-256 on every curve, DER; RSA-PSS with SHA-256
//! and MGF1-SHA-256) and `openssl pkeyutl -sign -rawin` (pure Ed25519). The stream is read once
//! (twice for Ed25519, whose nonce depends on the whole message), never held in memory.

use ed25519_dalek::hazmat::{ExpandedSecretKey, raw_sign_byupdate};
use rsa::pss;
use sha2::{Digest as _, Sha256, Sha512};
use signature::hazmat::{PrehashSigner, PrehashVerifier, RandomizedPrehashSigner};

use super::private::{Inner as PrivateInner, PrivateKey, max_pss_salt};
use super::public::{Inner as PublicInner, PublicKey, rsa_signature};
use crate::error::{Error, Result};

/// Feeds the signed bytes, in order, to the sink it is given; may be called more than once and
/// must feed the same bytes each time (or fail).
pub type Feed<'a> = &'a dyn Fn(&mut dyn FnMut(&[u8])) -> Result<()>;

fn sha256_of(feed: Feed<'_>) -> Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    feed(&mut |bytes| hasher.update(bytes))?;
    Ok(hasher.finalize().into())
}

impl PrivateKey {
    /// A detached signature over the bytes `feed` produces.
    pub fn sign_detached(&self, feed: Feed<'_>) -> Result<Vec<u8>> {
        let failed = |e: signature::Error| Error::Usage(format!("signing failed: {e}"));
        Ok(match &self.0 {
            PrivateInner::P256(key) => {
                let s: p256::ecdsa::Signature =
                    key.sign_prehash(&sha256_of(feed)?).map_err(failed)?;
                s.to_der().as_bytes().to_vec()
            }
            PrivateInner::P384(key) => {
                let s: p384::ecdsa::Signature =
                    key.sign_prehash(&sha256_of(feed)?).map_err(failed)?;
                s.to_der().as_bytes().to_vec()
            }
            PrivateInner::P521(key) => {
                let s: p521::ecdsa::Signature =
                    key.sign_prehash(&sha256_of(feed)?).map_err(failed)?;
                s.to_der().as_bytes().to_vec()
            }
            PrivateInner::Rsa(key) => {
                let signer = pss::SigningKey::<Sha256>::new_with_salt_len(
                    (**key).clone(),
                    max_pss_salt(key)?,
                );
                let s = signer
                    .sign_prehash_with_rng(&mut getrandom::SysRng, &sha256_of(feed)?)
                    .map_err(failed)?;
                Box::<[u8]>::from(s).into_vec()
            }
            PrivateInner::Ed25519(key) => {
                // Standard Ed25519 in two passes over the stream; the expanded key is derived from
                // the real secret key, as `SigningKey::sign` does internally.
                let expanded = ExpandedSecretKey::from(key.as_bytes());
                let feed_error = std::cell::RefCell::new(None);
                let outcome = raw_sign_byupdate::<Sha512, _>(
                    &expanded,
                    |hasher: &mut Sha512| {
                        feed(&mut |bytes| hasher.update(bytes)).map_err(|e| {
                            feed_error.replace(Some(e));
                            ed25519_dalek::SignatureError::new()
                        })
                    },
                    &key.verifying_key(),
                );
                if let Some(error) = feed_error.into_inner() {
                    return Err(error);
                }
                outcome.map_err(failed)?.to_bytes().to_vec()
            }
        })
    }
}

impl PublicKey {
    /// Whether `signature` is a detached signature by this key over the bytes `feed` produces.
    /// Any RSA-PSS salt length is accepted; a key with a `KeyType::weakness` verifies nothing.
    pub fn verify_detached(&self, feed: Feed<'_>, signature: &[u8]) -> Result<bool> {
        Ok(match &self.0 {
            PublicInner::P256(key) => {
                let digest = sha256_of(feed)?;
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|s| key.verify_prehash(&digest, &s).is_ok())
            }
            PublicInner::P384(key) => {
                let digest = sha256_of(feed)?;
                p384::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|s| key.verify_prehash(&digest, &s).is_ok())
            }
            PublicInner::P521(key) => {
                let digest = sha256_of(feed)?;
                p521::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|s| key.verify_prehash(&digest, &s).is_ok())
            }
            // Never a signature by a key too small to be safe (`KeyType::weakness`).
            PublicInner::Rsa(_) if self.key_type().weakness().is_some() => false,
            PublicInner::Rsa(key) => {
                let digest = sha256_of(feed)?;
                rsa_signature(signature).is_some_and(|s| {
                    pss::VerifyingKey::<Sha256>::new_with_auto_salt_len(key.clone())
                        .verify_prehash(&digest, &s)
                        .is_ok()
                })
            }
            PublicInner::Ed25519(key) => {
                let parsed = ed25519_dalek::Signature::from_slice(signature);
                let Some(mut verifier) = parsed.ok().and_then(|s| key.verify_stream(&s).ok())
                else {
                    return Ok(false);
                };
                feed(&mut |bytes| verifier.update(bytes))?;
                verifier.finalize_and_verify().is_ok()
            }
        })
    }
}
