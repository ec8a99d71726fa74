//! A byte-count progress bar on stderr, shown only for long runs on a terminal.

use std::io::IsTerminal;
use std::sync::OnceLock;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use modelprov::cache::DigestCache;
use modelprov::manifest::BuildContext;
use modelprov::progress::ProgressSink;

/// Below this many bytes a run is too short for a bar to be worth drawing.
const MIN_BYTES_FOR_BAR: u64 = 256 << 20;

/// Runs `work` with a build context that shows progress (unless `quiet`) and uses `cache`,
/// clearing the bar afterwards whatever the outcome.
pub fn with_progress<T>(
    quiet: bool,
    cache: Option<&DigestCache>,
    work: impl FnOnce(&BuildContext<'_>) -> T,
) -> T {
    let progress = TerminalProgress::new(quiet);
    let outcome = work(&BuildContext {
        progress: Some(&progress),
        cache,
    });
    progress.finish();
    outcome
}

struct TerminalProgress {
    enabled: bool,
    bar: OnceLock<ProgressBar>,
}

impl TerminalProgress {
    /// A bar that draws only when stderr is a terminal and `quiet` is off.
    fn new(quiet: bool) -> Self {
        TerminalProgress {
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: OnceLock::new(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

impl ProgressSink for TerminalProgress {
    fn start(&self, total_bytes: u64) {
        if !self.enabled || total_bytes < MIN_BYTES_FOR_BAR {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} eta {eta}",
            )
            .expect("valid progress template"),
        );
        let _ = self.bar.set(bar);
    }

    fn advance(&self, bytes: u64) {
        if let Some(bar) = self.bar.get() {
            bar.inc(bytes);
        }
    }
}
