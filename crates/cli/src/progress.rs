//! Progress bars for long commands, drawn on stderr (hidden when it is not a terminal).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Draws one bar (or spinner) per pipeline stage.
#[derive(Debug, Default)]
pub(crate) struct StageBars {
    current: Mutex<Option<ProgressBar>>,
}

impl StageBars {
    pub(crate) fn new() -> Self {
        StageBars::default()
    }

    fn with_current(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        // A poisoned lock only means another thread panicked while drawing; drawing on is safe.
        let mut guard = self.current.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard);
    }
}

impl centroid_pipeline::Progress for StageBars {
    fn stage(&self, name: &'static str, total: Option<u64>) {
        let bar = match total {
            Some(total) => ProgressBar::new(total).with_style(
                ProgressStyle::with_template(
                    "{prefix:>8} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}",
                )
                .expect("static template is valid")
                .progress_chars("=> "),
            ),
            None => ProgressBar::new_spinner().with_style(
                ProgressStyle::with_template("{prefix:>8} {spinner} {elapsed}")
                    .expect("static template is valid"),
            ),
        };
        bar.set_prefix(name);
        bar.enable_steady_tick(Duration::from_millis(120));
        self.with_current(|current| {
            if let Some(previous) = current.replace(bar) {
                previous.finish_and_clear();
            }
        });
    }

    fn advance(&self, amount: u64) {
        self.with_current(|current| {
            if let Some(bar) = current {
                bar.inc(amount);
            }
        });
    }

    fn done(&self, _name: &'static str, _elapsed: Duration) {
        self.with_current(|current| {
            if let Some(bar) = current.take() {
                bar.finish_and_clear();
            }
        });
    }
}
