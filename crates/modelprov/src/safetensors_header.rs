//! Parameter counts from safetensors headers: the 8-byte length and the JSON header are read, the
//! tensor data never is. The `safetensors` crate checks the header (dtypes, shapes against
//! offsets, contiguous offsets); we check that the data it describes fits in the file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use safetensors::tensor::Metadata;

use crate::error::{Error, Result};

/// The safetensors crate's own header limit.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// What safetensors headers say about the weights: tensor and parameter counts, per dtype.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafetensorsSummary {
    /// Number of tensors.
    pub tensors: usize,
    /// Number of parameters (the product of each tensor's shape, summed).
    pub parameters: u64,
    /// Parameters per dtype (`BF16`, `F32`, ...).
    pub parameters_by_dtype: BTreeMap<String, u64>,
}

impl SafetensorsSummary {
    /// Adds another file's counts to these, to total a model stored in several files.
    pub fn add(&mut self, other: &SafetensorsSummary) {
        self.tensors += other.tensors;
        self.parameters += other.parameters;
        for (dtype, count) in &other.parameters_by_dtype {
            *self.parameters_by_dtype.entry(dtype.clone()).or_default() += count;
        }
    }

    /// The dtype holding most parameters.
    pub fn main_dtype(&self) -> Option<&str> {
        self.parameters_by_dtype
            .iter()
            .max_by_key(|(_, count)| **count)
            .map(|(dtype, _)| dtype.as_str())
    }
}

/// Reads the summary of one safetensors file from its 8-byte length and JSON header (tensor
/// data is never read). A header that is malformed, names a tensor twice, or describes more or
/// less data than the file holds is an [`Error::InvalidInput`].
pub fn read_safetensors_summary(path: &Path) -> Result<SafetensorsSummary> {
    let invalid =
        |problem: String| Error::invalid(path, format!("not a valid safetensors file: {problem}"));
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    let mut length = [0u8; 8];
    file.read_exact(&mut length)
        .map_err(|_| invalid("shorter than its 8-byte header length".into()))?;
    let header_len = u64::from_le_bytes(length);
    if header_len > MAX_HEADER_BYTES || header_len > file_len - 8 {
        return Err(invalid(format!(
            "header length {header_len} does not fit the file ({file_len} bytes)"
        )));
    }
    let in_memory = usize::try_from(header_len)
        .map_err(|_| invalid(format!("header length {header_len} does not fit in memory")))?;
    let mut header = vec![0u8; in_memory];
    file.read_exact(&mut header)
        .map_err(|e| Error::io("read", path, e))?;
    if let Some(name) = duplicate_key(&header) {
        return Err(invalid(format!("the header names tensor '{name}' twice")));
    }
    let metadata: Metadata =
        serde_json::from_slice(&header).map_err(|e| invalid(format!("header: {e}")))?;
    let mut summary = SafetensorsSummary::default();
    let mut data_end = 0usize;
    for info in metadata.tensors().values() {
        let count: u64 = info.shape.iter().map(|&d| d as u64).product();
        summary.tensors += 1;
        summary.parameters += count;
        *summary
            .parameters_by_dtype
            .entry(info.dtype.to_string())
            .or_default() += count;
        data_end = data_end.max(info.data_offsets.1);
    }
    let data_len = file_len - 8 - header_len;
    if data_end as u64 != data_len {
        return Err(invalid(format!(
            "the header describes {data_end} bytes of tensor data but the file holds {data_len}"
        )));
    }
    Ok(summary)
}

/// The first top-level key that appears twice in the header (JSON readers keep the last one;
/// safetensors loaders disagree on which, so a duplicate is refused).
fn duplicate_key(header: &[u8]) -> Option<String> {
    use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if !seen.insert(key.clone()) {
                    return Ok(Some(key));
                }
            }
            Ok(None)
        }
    }
    serde_json::Deserializer::from_slice(header)
        .deserialize_map(Keys)
        .ok()
        .flatten()
}
