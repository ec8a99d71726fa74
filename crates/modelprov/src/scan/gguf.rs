//! GGUF (llama.cpp) headers: magic, version, tensor and metadata counts that fit the file, every
//! metadata key and value in bounds. The chat template (`tokenizer.chat_template`) is Jinja that
//! many runtimes render on load; one that reaches Python internals is flagged.

use std::io::Read;
use std::path::Path;

/// Metadata is kilobytes to a few megabytes (vocabularies); more than this is not read.
const MAX_METADATA: u64 = 256 << 20;

pub struct GgufReport {
    pub version: u32,
    pub tensors: u64,
    pub metadata: u64,
    pub chat_template: Option<String>,
}

/// Jinja that escapes the template sandbox's intent: attribute walks to Python internals.
const TEMPLATE_ESCAPES: &[&str] = &[
    "__class__",
    "__globals__",
    "__builtins__",
    "__subclasses__",
    "__mro__",
    "__base__",
    "__init__",
    "__import__",
    "__getattribute__",
    "os.popen",
    "os.system",
    "subprocess",
    "eval(",
    "exec(",
    "cycler.__",
    "joiner.__",
    "namespace.__",
    "lipsum",
    "config.items",
    "request.application",
];

/// What in a chat template can run code, if anything.
pub fn template_escape(template: &str) -> Option<&'static str> {
    TEMPLATE_ESCAPES
        .iter()
        .find(|needle| template.contains(*needle))
        .copied()
}

pub fn read_gguf(path: &Path) -> Result<GgufReport, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut data = Vec::new();
    file.take(MAX_METADATA)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    let mut reader = Cursor { data: &data, at: 0 };
    if reader.bytes(4)? != b"GGUF" {
        return Err("no GGUF magic".into());
    }
    let version = reader.u32()?;
    if !(1..=3).contains(&version) {
        return Err(format!("unknown GGUF version {version}"));
    }
    let (tensors, metadata) = if version == 1 {
        (u64::from(reader.u32()?), u64::from(reader.u32()?))
    } else {
        (reader.u64()?, reader.u64()?)
    };
    // Each tensor entry and each metadata pair takes at least 13 bytes.
    if tensors.saturating_add(metadata).saturating_mul(13) > file_len {
        return Err(format!(
            "{tensors} tensors and {metadata} metadata entries cannot fit in {file_len} bytes"
        ));
    }
    let mut chat_template = None;
    for _ in 0..metadata {
        let key = reader.string(version)?;
        let kind = reader.u32()?;
        if key == "tokenizer.chat_template" && kind == 8 {
            chat_template = Some(reader.string(version)?);
        } else {
            reader.skip_value(kind, version, 0)?;
        }
    }
    Ok(GgufReport {
        version,
        tensors,
        metadata,
        chat_template,
    })
}

struct Cursor<'a> {
    data: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn bytes(&mut self, n: u64) -> Result<&[u8], String> {
        let n = usize::try_from(n).map_err(|_| "a length beyond memory".to_string())?;
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| format!("a value at offset {} runs past the metadata", self.at))?;
        let slice = &self.data[self.at..end];
        self.at = end;
        Ok(slice)
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.bytes(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.bytes(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn string(&mut self, version: u32) -> Result<String, String> {
        let len = if version == 1 {
            u64::from(self.u32()?)
        } else {
            self.u64()?
        };
        Ok(String::from_utf8_lossy(self.bytes(len)?).into_owned())
    }
    fn skip_value(&mut self, kind: u32, version: u32, depth: u32) -> Result<(), String> {
        match kind {
            0 | 1 | 7 => self.bytes(1).map(|_| ()),
            2 | 3 => self.bytes(2).map(|_| ()),
            4..=6 => self.bytes(4).map(|_| ()),
            10..=12 => self.bytes(8).map(|_| ()),
            8 => self.string(version).map(|_| ()),
            9 if depth < 4 => {
                let item = self.u32()?;
                let count = if version == 1 {
                    u64::from(self.u32()?)
                } else {
                    self.u64()?
                };
                if count > self.data.len() as u64 {
                    return Err(format!("an array of {count} values cannot fit"));
                }
                for _ in 0..count {
                    self.skip_value(item, version, depth + 1)?;
                }
                Ok(())
            }
            other => Err(format!("unknown metadata value type {other}")),
        }
    }
}
