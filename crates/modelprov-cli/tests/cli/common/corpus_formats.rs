//! Corpus cases for ONNX models, written field by field in protobuf's wire format (field numbers
//! from onnx/onnx.proto3), so that no ONNX tooling is needed to build them.

use std::path::{Path, PathBuf};

use super::Label;

fn varint(mut n: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A protobuf message under construction.
#[derive(Default, Clone)]
pub struct Proto(Vec<u8>);

impl Proto {
    pub fn int(mut self, field: u64, value: u64) -> Proto {
        varint(field << 3, &mut self.0);
        varint(value, &mut self.0);
        self
    }
    pub fn bytes(mut self, field: u64, value: &[u8]) -> Proto {
        varint((field << 3) | 2, &mut self.0);
        varint(value.len() as u64, &mut self.0);
        self.0.extend_from_slice(value);
        self
    }
    pub fn text(self, field: u64, value: &str) -> Proto {
        self.bytes(field, value.as_bytes())
    }
    pub fn message(self, field: u64, value: &Proto) -> Proto {
        self.bytes(field, &value.0)
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// NodeProto: `op` of `domain` from x to y.
pub fn node(op: &str, domain: &str) -> Proto {
    let node = Proto::default()
        .text(1, "x")
        .text(2, "y")
        .text(3, "n0")
        .text(4, op);
    if domain.is_empty() {
        node
    } else {
        node.text(7, domain)
    }
}

/// TensorProto `w` of 4 floats kept in the file `location` (data_location EXTERNAL).
pub fn external_tensor(location: &str) -> Proto {
    let entry = |key: &str, value: &str| Proto::default().text(1, key).text(2, value);
    Proto::default()
        .int(1, 4)
        .int(2, 1)
        .text(8, "w")
        .message(13, &entry("location", location))
        .message(13, &entry("offset", "0"))
        .message(13, &entry("length", "16"))
        .int(14, 1)
}

/// ModelProto (IR 8, opset 17, from "modelprov-tests") around a graph.
pub fn model(graph: &Proto) -> Vec<u8> {
    let opset = Proto::default().int(2, 17);
    Proto::default()
        .int(1, 8)
        .text(2, "modelprov-tests")
        .message(7, graph)
        .message(8, &opset)
        .into_bytes()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Pushes the ONNX samples (into `dir`/onnx) through `add`, as corpus() does.
pub fn add_samples(dir: &Path, add: &mut impl FnMut(PathBuf, Label, &'static str, &'static str)) {
    let dir = dir.join("onnx");
    let relu = Proto::default().message(1, &node("Relu", ""));
    add(
        write(&dir, "benign-relu.onnx", &model(&relu)),
        Label::Benign,
        "ONNX model of standard operators",
        "",
    );
    let ml = Proto::default().message(1, &node("LabelEncoder", "ai.onnx.ml"));
    add(
        write(&dir, "benign-ml.onnx", &model(&ml)),
        Label::Benign,
        "ONNX model of an ai.onnx.ml operator",
        "",
    );
    // Its data file is another sample of the folder (every file of the corpus is a sample);
    // what matters is that it lies inside the folder (named with a leading `./`).
    let external = relu
        .clone()
        .message(5, &external_tensor("./benign-relu.onnx"));
    add(
        write(&dir, "benign-external.onnx", &model(&external)),
        Label::Benign,
        "ONNX model with external data in its folder",
        "",
    );

    for (name, location, technique, expected) in [
        (
            "mal-external-absolute.onnx",
            "/etc/passwd",
            "ONNX external data at an absolute path",
            "absolute path",
        ),
        (
            "mal-external-climb.onnx",
            "../../../../../../etc/passwd",
            "ONNX external data climbing out with ..",
            "climbs out",
        ),
        (
            "mal-external-backslash.onnx",
            "..\\..\\secrets.txt",
            "ONNX external data climbing out with Windows separators",
            "climbs out",
        ),
    ] {
        let graph = relu.clone().message(5, &external_tensor(location));
        add(
            write(&dir, name, &model(&graph)),
            Label::Malicious,
            technique,
            expected,
        );
    }
    // The tensor hides in the else-branch of an If node (AttributeProto.g), and in a Constant
    // node's value (AttributeProto.t).
    let branch = Proto::default().message(5, &external_tensor("/proc/self/environ"));
    let if_node = node("If", "").message(
        5,
        &Proto::default().text(1, "else_branch").message(6, &branch),
    );
    add(
        write(
            &dir,
            "mal-external-in-subgraph.onnx",
            &model(&Proto::default().message(1, &if_node)),
        ),
        Label::Malicious,
        "ONNX external data inside an If subgraph",
        "absolute path",
    );
    let constant = node("Constant", "").message(
        5,
        &Proto::default()
            .text(1, "value")
            .message(5, &external_tensor("/dev/zero")),
    );
    add(
        write(
            &dir,
            "mal-external-in-constant.onnx",
            &model(&Proto::default().message(1, &constant)),
        ),
        Label::Malicious,
        "ONNX external data in a Constant node's tensor",
        "absolute path",
    );
    let custom = Proto::default().message(1, &node("Shell", "com.example.ops"));
    add(
        write(&dir, "mal-custom-op.onnx", &model(&custom)),
        Label::Malicious,
        "ONNX operator from a custom domain (needs a native custom-op library)",
        "custom domain com.example.ops",
    );
    let mut truncated = model(&relu);
    truncated.truncate(truncated.len() - 3);
    add(
        write(&dir, "bad-truncated.onnx", &truncated),
        Label::Malformed,
        "ONNX model cut short",
        "",
    );
}
