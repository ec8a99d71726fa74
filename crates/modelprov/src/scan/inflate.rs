//! Decompression under a budget. A compressed file (or a zip's members together) may inflate to
//! at most a fixed allowance plus a ratio of its own size: real weights barely compress, and
//! deflate cannot exceed about 1032:1, so more than that is a decompression bomb, reported as a
//! finding instead of filling memory or stalling the scan.

use std::io::{Read, Write};

/// Inflated bytes allowed whatever the input size (a small file full of zeros is not a bomb).
const BASE_ALLOWANCE: u64 = 256 << 20;
/// Inflated bytes allowed per compressed byte beyond the base: deflate's own maximum.
const MAX_RATIO: u64 = 1100;
/// Nothing decompresses to more than modelprov reads whole (the raw pickle limit).
const MAX_INFLATED: u64 = 4 << 30;

/// What one compressed input may still inflate to.
#[derive(Debug)]
pub struct Budget {
    /// The compressed size the allowance was computed from.
    input: u64,
    limit: u64,
    used: u64,
}

impl Budget {
    /// The allowance for `compressed` input bytes.
    pub fn for_input(compressed: u64) -> Budget {
        let limit = compressed
            .saturating_mul(MAX_RATIO)
            .saturating_add(BASE_ALLOWANCE)
            .min(MAX_INFLATED);
        Budget {
            input: compressed,
            limit,
            used: 0,
        }
    }

    #[cfg(test)]
    fn used(&self) -> u64 {
        self.used
    }

    fn take(&mut self, n: u64) -> bool {
        if self.used.saturating_add(n) > self.limit {
            self.used = self.limit;
            return false;
        }
        self.used += n;
        true
    }

    /// The message for a bomb: what was allowed and why.
    pub fn bomb_message(&self) -> String {
        let compressed = self.input;
        format!(
            "decompression bomb: {compressed} compressed bytes inflate to more than {} bytes \
             (allowed: {} MiB plus {MAX_RATIO} times the compressed size, at most {} GiB); \
             not scanned past that point",
            self.limit,
            BASE_ALLOWANCE >> 20,
            MAX_INFLATED >> 30
        )
    }
}

/// Why decompression stopped early.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The budget ran out.
    Bomb,
    /// The stream is damaged or truncated (the message says how).
    Corrupt(String),
}

/// Everything a decoder produced, and why it stopped if it did not reach the end: the bytes
/// before a break are what a loader would already have acted on, so they are scanned too.
#[derive(Debug)]
pub struct Inflated {
    pub data: Vec<u8>,
    pub stop: Option<Stop>,
}

/// A writer that collects output and refuses it once the budget is spent, or (without error)
/// drops it past `cap` bytes.
struct Sink<'a> {
    data: Vec<u8>,
    budget: &'a mut Budget,
    cap: u64,
    exceeded: bool,
}

impl<'a> Sink<'a> {
    fn new(budget: &'a mut Budget, cap: u64) -> Sink<'a> {
        Sink {
            data: Vec::new(),
            budget,
            cap,
            exceeded: false,
        }
    }

    /// The result of a decoder that wrote into this sink.
    fn finish<E: std::fmt::Display>(self, result: Result<(), E>) -> Inflated {
        let stop = match result {
            Ok(()) => None,
            Err(_) if self.exceeded => Some(Stop::Bomb),
            Err(_) if self.full() => None,
            Err(e) => Some(Stop::Corrupt(e.to_string())),
        };
        Inflated {
            data: self.data,
            stop,
        }
    }

    fn full(&self) -> bool {
        self.data.len() as u64 >= self.cap
    }
}

/// Reaching `cap` is not an error of the stream: the decoder is told to stop by this error,
/// which `finish` recognises because the sink is full.
fn capped() -> std::io::Error {
    std::io::Error::other("enough output read")
}

impl Write for Sink<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.full() {
            return Err(capped());
        }
        let room = usize::try_from(self.cap - self.data.len() as u64).unwrap_or(usize::MAX);
        let buf = &buf[..buf.len().min(room)];
        if !self.budget.take(buf.len() as u64) {
            self.exceeded = true;
            return Err(std::io::Error::other("decompression budget exceeded"));
        }
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads a decoder to its end, or `cap` bytes, under the budget.
pub fn read_bounded<R: Read>(mut reader: R, cap: u64, budget: &mut Budget) -> Inflated {
    let mut sink = Sink::new(budget, cap);
    let mut chunk = vec![0u8; 64 << 10];
    let result = loop {
        match reader.read(&mut chunk) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = sink.write_all(&chunk[..n]) {
                    break Err(e);
                }
                if sink.full() {
                    break Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    sink.finish(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_grows_with_the_input_and_is_capped() {
        assert_eq!(Budget::for_input(0).limit, BASE_ALLOWANCE);
        assert_eq!(
            Budget::for_input(1 << 20).limit,
            BASE_ALLOWANCE + (1100 << 20)
        );
        assert_eq!(Budget::for_input(u64::MAX).limit, MAX_INFLATED);
    }

    #[test]
    fn a_stream_past_the_budget_is_a_bomb_and_keeps_what_came_before() {
        let mut budget = Budget::for_input(0);
        let zeros = std::io::repeat(0).take(BASE_ALLOWANCE + 1);
        let inflated = read_bounded(zeros, u64::MAX, &mut budget);
        assert_eq!(inflated.stop, Some(Stop::Bomb));
        assert!(inflated.data.len() as u64 <= BASE_ALLOWANCE);
        assert!(inflated.data.len() as u64 > BASE_ALLOWANCE - (64 << 10) - 1);
    }

    #[test]
    fn a_cap_stops_without_error_and_spends_only_what_was_read() {
        let mut budget = Budget::for_input(0);
        let inflated = read_bounded(std::io::repeat(7), 16, &mut budget);
        assert_eq!(inflated.stop, None);
        assert_eq!(inflated.data, vec![7; 16]);
        assert_eq!(budget.used(), 16);
    }
}
