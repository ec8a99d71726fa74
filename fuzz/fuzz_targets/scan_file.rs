//! The scanner over one file as `modelprov scan` runs it: format detection, then the pickle,
//! NumPy, zip (torch, joblib, Keras), GGUF, HDF5 and safetensors readers, whatever the bytes.
//! The format is the one the first bytes say (text that decodes as a pickle is one; bytes that only
//! start like a zlib or .lzma header and do not decompress are judged as the pickle or text they
//! are), and a file with a risky finding is never reported safe.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use modelprov::scan::pickle::Risk;
use modelprov::scan::{Format, Verdict, detect, scan_file};

fuzz_target!(|data: &[u8]| {
    let path = common::write("model.bin", data);
    let scan = scan_file(&path);
    let detected = detect(&data[..data.len().min(64)]);
    assert!(
        scan.format == detected
            || (detected == Format::Text && scan.format == Format::Pickle)
            || (detected == Format::Compressed
                && matches!(scan.format, Format::Pickle | Format::Text)),
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
