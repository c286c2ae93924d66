//! Progress bars (indicatif) with rate and ETA for long work, fed by the library's progress
//! reports.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar for the library's [`taina::progress::Progress`] reports; hidden in JSON mode.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar (drawn on stderr when `visible`).
    pub fn new(visible: bool) -> Bar {
        let bar = if visible {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        Bar(bar)
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl taina::progress::Progress for Bar {
    fn start(&self, what: &str, total: u64, bytes: bool) {
        let template = if bytes {
            "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}"
        } else {
            "{msg:>12} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.0.set_style(style.progress_chars("=> "));
        }
        self.0.set_message(what.to_owned());
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
