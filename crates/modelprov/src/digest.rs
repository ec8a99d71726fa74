//! The model's identity: the SHA-256 root digest of its manifest, written `sha256:<hex>`.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

/// SHA-256 over the concatenated raw resource digests, in manifest order (OMS section 4.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RootDigest(pub [u8; 32]);

impl RootDigest {
    /// Computes the root digest over resource digests in the order given.
    pub fn over<'a>(digests: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut hasher = Sha256::new();
        for digest in digests {
            hasher.update(digest);
        }
        RootDigest(hasher.finalize().into())
    }

    /// The digest as 64 lowercase hex digits, without the `sha256:` prefix.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for RootDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl serde::Serialize for RootDigest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for RootDigest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for RootDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Parses `sha256:<64 hex digits>`; a bare 64-digit hex string is accepted too, since that is
/// what `subject.digest.sha256` and most tools print.
impl FromStr for RootDigest {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let hex_part = match text.split_once(':') {
            Some(("sha256", rest)) => rest,
            Some((algorithm, _)) => {
                return Err(format!(
                    "unsupported digest algorithm '{algorithm}' (model digests are sha256:<hex>)"
                ));
            }
            None => text,
        };
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes)
            .map_err(|_| format!("'{text}' is not a digest of the form sha256:<64 hex digits>"))?;
        Ok(RootDigest(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_model_digest_is_sha256_of_nothing() {
        assert_eq!(
            RootDigest::over([]).hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parses_prefixed_and_bare_hex_and_rejects_the_rest() {
        let hex = "8892da4eac46260d5938336518ba9825282fe615289912758c5cca9e226de196";
        let prefixed: RootDigest = format!("sha256:{hex}").parse().unwrap();
        let bare: RootDigest = hex.parse().unwrap();
        assert_eq!(prefixed, bare);
        assert_eq!(prefixed.to_string(), format!("sha256:{hex}"));
        assert!(
            "sha512:abcd"
                .parse::<RootDigest>()
                .unwrap_err()
                .contains("sha512")
        );
        assert!("sha256:abcd".parse::<RootDigest>().is_err());
        assert!(
            format!("sha256:{}", &hex[..63])
                .parse::<RootDigest>()
                .is_err()
        );
    }
}
