//! The pickle disassembler and simulator the scanner runs over raw pickles, zip members and NumPy
//! object arrays, in memory (`scan_pickles`): opcode decoding and the allowlist judgement, from two starts. Every
//! finding points at a byte of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use modelprov::scan::pickle::scan_pickles;

fuzz_target!(|data: &[u8]| {
    for (start, base) in [(0, 0), (data.len() / 2, 1000)] {
        let report = scan_pickles(data, start, base);
        for finding in &report.findings {
            assert!(
                (base + start..base + data.len()).contains(&finding.offset),
                "finding at {} outside the input",
                finding.offset
            );
        }
    }
});
