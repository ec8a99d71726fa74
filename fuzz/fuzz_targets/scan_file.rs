//! The scanner over one file as `modelprov scan` runs it: format detection, then the pickle,
//! NumPy, zip (torch, joblib, Keras), GGUF, HDF5 and safetensors readers, whatever the bytes.
//! The format is the one the first bytes say, or one their content proves: bytes that start with
//! a pickle opcode and act as a pickle are one (whatever else they look like), a safetensors
//! length that does not fit the file is text, and bytes that only start like a zlib or .lzma
//! header and do not decompress are judged as the pickle or text they are. A file with a risky
//! finding is never reported safe.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::scan::pickle::Risk;
use modelprov::scan::{Format, Verdict, detect, scan_file};

fuzz_target!(|data: &[u8]| {
    let path = common::write("model.bin", data);
    let scan = scan_file(&path);
    let detected = detect(&data[..data.len().min(64)]);
    let proven = match scan.format {
        Format::Pickle => matches!(
            detected,
            Format::Text | Format::Unknown | Format::Compressed | Format::Safetensors
        ),
        Format::Text => matches!(detected, Format::Safetensors | Format::Compressed),
        _ => false,
    };
    assert!(
        scan.format == detected || proven,
        "format {:?} from a {detected:?} head",
        scan.format
    );
    if scan.findings.iter().any(|f| f.finding.risk != Risk::Safe) {
        assert!(
            scan.verdict >= Verdict::Unsafe,
            "risky findings, verdict {:?}",
            scan.verdict
        );
    }
});
