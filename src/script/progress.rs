//! Progress bars for long work (paging through thousands of items, large batches). Drawn
//! on stderr only when stderr is a terminal; otherwise nothing is printed.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that may be switched off.
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Start a bar labelled `label` when `enabled`.
    pub fn start(enabled: bool, label: &str) -> Progress {
        if !enabled {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{msg:>24} [{bar:30}] {pos}/{len} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        Progress { bar: Some(bar) }
    }

    /// Report `done` of `total` items.
    pub fn update(&self, done: usize, total: Option<usize>) {
        if let Some(bar) = &self.bar {
            if let Some(total) = total {
                bar.set_length(total as u64);
            }
            bar.set_position(done as u64);
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
