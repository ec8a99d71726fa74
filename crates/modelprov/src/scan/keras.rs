//! Keras models: a `.keras` zip's `config.json`, or an HDF5 `.h5` file's `model_config`
//! attribute, lists the layers. A `Lambda` layer carries serialised Python code (marshalled
//! bytecode) that runs when the model is loaded; custom objects from modules other than Keras run
//! their own code.

use serde_json::Value;

/// (risk is dangerous, message) for each layer that runs code.
pub fn config_findings(config: &Value) -> Vec<(bool, String)> {
    let mut findings = Vec::new();
    walk(config, &mut findings);
    findings
}

fn walk(value: &Value, findings: &mut Vec<(bool, String)>) {
    match value {
        Value::Object(map) => {
            let class = map.get("class_name").and_then(Value::as_str);
            if class == Some("Lambda") {
                let name = map
                    .get("config")
                    .and_then(|c| c.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                findings.push((
                    true,
                    format!("Lambda layer '{name}' holds serialised Python code that runs on load"),
                ));
            }
            if let (Some(class), Some(module)) = (class, map.get("module").and_then(Value::as_str))
                && !(module.starts_with("keras")
                    || module.starts_with("tf_keras")
                    || module.starts_with("tensorflow"))
            {
                findings.push((
                    false,
                    format!("custom object {module}.{class} runs code from outside Keras on load"),
                ));
            }
            for child in map.values() {
                walk(child, findings);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| walk(item, findings)),
        _ => {}
    }
}

/// The Keras model config JSON inside an HDF5 file, found by its attribute value (HDF5 stores
/// small attributes as plain bytes); `None` when there is none.
pub fn h5_model_config(data: &[u8]) -> Option<Value> {
    let needle = b"\"class_name\"";
    let mut from = 0;
    while let Some(at) = find(&data[from..], needle) {
        let key = from + at;
        // The config object opens shortly before its first key (Keras 3 writes "module" first).
        let window = key.saturating_sub(256);
        if let Some(open) = data[window..key].iter().rposition(|&b| b == b'{') {
            let start = window + open;
            let mut stream =
                serde_json::Deserializer::from_slice(&data[start..]).into_iter::<Value>();
            if let Some(Ok(value)) = stream.next()
                && value.get("config").is_some()
            {
                return Some(value);
            }
        }
        from = key + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
