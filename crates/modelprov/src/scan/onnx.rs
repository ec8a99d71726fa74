//! ONNX models (a protobuf `ModelProto`, no magic): decoded with prost from the few messages and
//! fields of onnx.proto the scan needs (field numbers as in onnx/onnx.proto3; everything else,
//! tensor bytes included, is skipped unread). Nothing in the format itself runs Python, but two
//! things reach outside the file when a runtime loads it:
//!
//! - **external data**: a tensor's bytes may live in another file, named by `location` relative
//!   to the model's folder. onnxruntime opens whatever that names, so an absolute path, one that
//!   climbs out with `..`, or one whose symlinks lead out of the model is a finding (dangerous);
//!   a missing file is noted (the model would not load).
//! - **custom operator domains**: an operator outside the standard domains runs only once the
//!   user registers a custom-op library, which is native code modelprov cannot see: reported as
//!   not known to be safe. Operators defined by the model's own `functions` are not custom.
//!
//! Bounds: the file is at most protobuf's 2 GiB; prost limits message nesting to 100 levels and
//! checks every length against the input; the graph walk uses an explicit stack.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path};

use prost::Message;

use super::pickle::Risk;
use super::{FileScan, flag, invalid};

/// Protobuf messages cannot be larger; runtimes refuse them.
const MAX_ONNX_FILE: u64 = 2 << 30;

/// Domains whose operators onnxruntime implements itself.
const STANDARD_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
    "com.microsoft",
    "com.microsoft.experimental",
    "com.microsoft.nchwc",
    "com.ms.internal.nhwc",
];

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(int64, tag = "1")]
    ir_version: i64,
    #[prost(string, tag = "2")]
    producer_name: String,
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
    #[prost(message, repeated, tag = "8")]
    opset_import: Vec<OperatorSetIdProto>,
    #[prost(message, repeated, tag = "20")]
    training_info: Vec<TrainingInfoProto>,
    #[prost(message, repeated, tag = "25")]
    functions: Vec<FunctionProto>,
}

#[derive(Clone, PartialEq, Message)]
struct OperatorSetIdProto {
    #[prost(string, tag = "1")]
    domain: String,
    #[prost(int64, tag = "2")]
    version: i64,
}

#[derive(Clone, PartialEq, Message)]
struct TrainingInfoProto {
    #[prost(message, optional, tag = "1")]
    initialization: Option<GraphProto>,
    #[prost(message, optional, tag = "2")]
    algorithm: Option<GraphProto>,
}

#[derive(Clone, PartialEq, Message)]
struct FunctionProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, repeated, tag = "7")]
    node: Vec<NodeProto>,
    #[prost(string, tag = "10")]
    domain: String,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
    #[prost(message, repeated, tag = "15")]
    sparse_initializer: Vec<SparseTensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
    #[prost(string, tag = "7")]
    domain: String,
}

#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(message, optional, tag = "5")]
    t: Option<TensorProto>,
    #[prost(message, optional, tag = "6")]
    g: Option<GraphProto>,
    #[prost(message, repeated, tag = "10")]
    tensors: Vec<TensorProto>,
    #[prost(message, repeated, tag = "11")]
    graphs: Vec<GraphProto>,
    #[prost(message, optional, tag = "22")]
    sparse_tensor: Option<SparseTensorProto>,
    #[prost(message, repeated, tag = "23")]
    sparse_tensors: Vec<SparseTensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct SparseTensorProto {
    #[prost(message, optional, tag = "1")]
    values: Option<TensorProto>,
    #[prost(message, optional, tag = "2")]
    indices: Option<TensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(string, tag = "8")]
    name: String,
    #[prost(message, repeated, tag = "13")]
    external_data: Vec<StringStringEntryProto>,
    /// `DataLocation`: 0 default (bytes in the file), 1 external.
    #[prost(int32, tag = "14")]
    data_location: i32,
}

#[derive(Clone, PartialEq, Message)]
struct StringStringEntryProto {
    #[prost(string, tag = "1")]
    key: String,
    #[prost(string, tag = "2")]
    value: String,
}

/// Whether the first bytes read as a `ModelProto`: field 1 (`ir_version`, a small varint) and
/// then another `ModelProto` field, as every exporter writes them. The decode then decides.
pub(super) fn looks_like_model(head: &[u8]) -> bool {
    // Tags: 0x12 producer_name, 0x1a producer_version, 0x22 domain, 0x28 model_version,
    // 0x32 doc_string, 0x3a graph, 0x42 opset_import, 0x72 metadata_props, 0xa2 0x01 training_info,
    // 0xca 0x01 functions.
    matches!(
        head,
        [
            0x08,
            1..=0x7f,
            0x12 | 0x1a | 0x22 | 0x28 | 0x32 | 0x3a | 0x42 | 0x72 | 0xa2 | 0xca,
            ..
        ]
    )
}

/// Scans the ONNX model at `path` into `scan`.
pub(super) fn scan_onnx(scan: &mut FileScan, path: &Path) {
    let data = match crate::fsutil::read_capped(path, MAX_ONNX_FILE, "an ONNX model") {
        Ok(data) => data,
        Err(e) => return invalid(scan, format!("not a loadable ONNX model: {e}")),
    };
    let model = match ModelProto::decode(data.as_slice()) {
        Ok(model) => model,
        Err(e) => return invalid(scan, format!("not a valid ONNX model: {e}")),
    };
    drop(data);
    let opsets: Vec<String> = model
        .opset_import
        .iter()
        .map(|o| format!("{} {}", shown_domain(&o.domain), o.version))
        .collect();
    scan.notes.push(format!(
        "ONNX IR v{}{}, opsets: {}",
        model.ir_version,
        if model.producer_name.is_empty() {
            String::new()
        } else {
            format!(" from {}", model.producer_name)
        },
        if opsets.is_empty() {
            "none".to_string()
        } else {
            opsets.join(", ")
        }
    ));

    let defined: BTreeSet<(&str, &str)> = model
        .functions
        .iter()
        .map(|f| (f.domain.as_str(), f.name.as_str()))
        .collect();
    let mut graphs: Vec<&GraphProto> = model.graph.iter().collect();
    for info in &model.training_info {
        graphs.extend(info.initialization.iter().chain(info.algorithm.iter()));
    }
    let mut nodes: Vec<&NodeProto> = model.functions.iter().flat_map(|f| &f.node).collect();
    let mut tensors: Vec<&TensorProto> = Vec::new();
    // (domain, op) -> how many nodes use it.
    let mut custom: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    loop {
        if let Some(graph) = graphs.pop() {
            nodes.extend(&graph.node);
            tensors.extend(&graph.initializer);
            tensors.extend(graph.sparse_initializer.iter().flat_map(sparse_parts));
        } else if let Some(node) = nodes.pop() {
            if !STANDARD_DOMAINS.contains(&node.domain.as_str())
                && !defined.contains(&(node.domain.as_str(), node.op_type.as_str()))
            {
                *custom
                    .entry((node.domain.as_str(), node.op_type.as_str()))
                    .or_default() += 1;
            }
            for attribute in &node.attribute {
                graphs.extend(attribute.g.iter().chain(&attribute.graphs));
                tensors.extend(attribute.t.iter().chain(&attribute.tensors));
                tensors.extend(
                    attribute
                        .sparse_tensor
                        .iter()
                        .chain(&attribute.sparse_tensors)
                        .flat_map(sparse_parts),
                );
            }
        } else {
            break;
        }
    }
    for ((domain, op), count) in custom {
        flag(
            scan,
            None,
            Risk::Unknown,
            "onnx-custom-op",
            format!(
                "operator {op} of the custom domain {domain} ({count} node{}): it runs only with a \
                 custom-op library registered by the user, native code modelprov cannot judge",
                if count == 1 { "" } else { "s" }
            ),
        );
    }
    check_external_data(scan, path, &tensors);
}

fn sparse_parts(sparse: &SparseTensorProto) -> impl Iterator<Item = &TensorProto> {
    sparse.values.iter().chain(sparse.indices.iter())
}

fn shown_domain(domain: &str) -> &str {
    if domain.is_empty() { "ai.onnx" } else { domain }
}

/// Each external location once: unsafe when it leaves the model, noted when missing.
fn check_external_data(scan: &mut FileScan, path: &Path, tensors: &[&TensorProto]) {
    let mut locations: BTreeMap<&str, usize> = BTreeMap::new();
    for tensor in tensors.iter().filter(|t| t.data_location == 1) {
        match tensor.external_data.iter().find(|e| e.key == "location") {
            Some(entry) => *locations.entry(entry.value.as_str()).or_default() += 1,
            None => scan.notes.push(format!(
                "tensor {:?} is external but names no location; the model would not load",
                tensor.name
            )),
        }
    }
    let folder = path.parent().unwrap_or(Path::new("."));
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    for (location, count) in locations {
        let place = format!(
            "external data {location:?} ({count} tensor{})",
            plural(count)
        );
        if let Some(problem) = escape(folder, location) {
            flag(
                scan,
                None,
                Risk::Dangerous,
                "onnx-external-data",
                format!("{place} {problem}: a runtime would read that file as weights"),
            );
            continue;
        }
        let file = folder.join(location);
        match std::fs::metadata(&file) {
            Ok(metadata) if metadata.is_file() => scan.notes.push(place),
            Ok(_) => scan.notes.push(format!(
                "{place} is not a regular file; the model would not load"
            )),
            Err(_) => scan
                .notes
                .push(format!("{place} is missing; the model would not load")),
        }
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

/// Why a location leaves the model folder, if it does: by its words (absolute, a drive, `..`
/// above the folder) or through symlinks on disk.
fn escape(folder: &Path, location: &str) -> Option<String> {
    let windows_drive = location.len() >= 2
        && location.as_bytes()[1] == b':'
        && location.as_bytes()[0].is_ascii_alphabetic();
    if location.starts_with('/') || location.starts_with('\\') || windows_drive {
        return Some("is an absolute path".into());
    }
    let mut depth = 0usize;
    // Backslashes separate on Windows runtimes: judge them as separators too.
    for component in Path::new(&location.replace('\\', "/")).components() {
        match component {
            Component::ParentDir if depth == 0 => {
                return Some("climbs out of the model folder".into());
            }
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    let canonical_folder = folder.canonicalize().ok()?;
    let boundary = super::files::model_boundary(&canonical_folder);
    let target = folder.join(location).canonicalize().ok()?;
    (!target.starts_with(&boundary)).then(|| {
        format!(
            "leads out of the model through a symlink, to {}",
            target.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_that_leave_the_folder_are_caught_by_their_words() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "/etc/passwd",
            "\\\\server\\share",
            "C:\\x",
            "../x",
            "a/../../x",
            "a\\..\\..\\x",
        ] {
            assert!(escape(dir.path(), bad).is_some(), "{bad}");
        }
        for good in ["w.bin", "a/../w.bin", "./sub/w.bin"] {
            assert_eq!(escape(dir.path(), good), None, "{good}");
        }
    }

    #[test]
    fn a_symlink_out_of_the_folder_is_an_escape() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("m");
        std::fs::create_dir(&model).unwrap();
        std::fs::write(dir.path().join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink("../secret", model.join("w.bin")).unwrap();
        assert!(escape(&model, "w.bin").unwrap().contains("symlink"));
    }

    fn field(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let mut n = body.len();
        loop {
            let byte = u8::try_from(n & 0x7f).unwrap();
            n >>= 7;
            if n == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.extend_from_slice(body);
        out
    }

    fn scanned(bytes: &[u8]) -> FileScan {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.onnx");
        std::fs::write(&path, bytes).unwrap();
        super::super::scan_file(&path)
    }

    #[test]
    fn hostile_protobufs_are_invalid_not_a_crash() {
        // Subgraphs nested 10,000 deep (graph > node > attribute.g > graph ...).
        let mut graph = Vec::new();
        for _ in 0..10_000 {
            graph = field(0x0a, &field(0x2a, &field(0x32, &graph)));
        }
        let mut model = b"\x08\x08\x12\x01x".to_vec();
        model.extend(field(0x3a, &graph));
        let scan = scanned(&model);
        assert_eq!(scan.format, super::super::Format::Onnx);
        assert_eq!(
            scan.verdict,
            super::super::Verdict::Invalid,
            "{:?}",
            scan.notes
        );
        // A length far beyond the file.
        let scan = scanned(b"\x08\x08\x12\x01x\x3a\xff\xff\xff\xff\x0f");
        assert_eq!(
            scan.verdict,
            super::super::Verdict::Invalid,
            "{:?}",
            scan.notes
        );
    }

    #[test]
    fn the_first_bytes_of_exported_models_are_recognised() {
        // torch.onnx.export: ir_version 8, producer_name "pytorch".
        assert!(looks_like_model(b"\x08\x08\x12\x07pytorch"));
        assert!(!looks_like_model(b"\x08\x08hello"));
        assert!(!looks_like_model(b"{\"a\": 1}"));
    }
}
