//! Progress bars for layer analysis, on a terminal only.

use std::io::IsTerminal;
use std::sync::Mutex;

use bosun_core::Digest;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bars {
    multi: Option<MultiProgress>,
    bars: Mutex<Vec<(usize, ProgressBar)>>,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        let multi = (!quiet && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Bars {
            multi,
            bars: Mutex::new(Vec::new()),
        }
    }

    fn bar(&self, index: usize) -> Option<ProgressBar> {
        let bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        bars.iter()
            .find(|(i, _)| *i == index)
            .map(|(_, b)| b.clone())
    }

    pub fn finish(&self) {
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }
}

impl bosun_scan::Observer for Bars {
    fn layer_started(&self, index: usize, digest: &Digest, size: u64) {
        let Some(m) = &self.multi else { return };
        let bar = m.add(ProgressBar::new(size));
        let style = ProgressStyle::with_template("{prefix} [{bar:30}] {bytes}/{total_bytes} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("layer {}", &digest.hex()[..12]));
        self.bars
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((index, bar));
    }

    fn layer_progress(&self, index: usize, bytes: u64) {
        if let Some(b) = self.bar(index) {
            b.inc(bytes);
        }
    }

    fn layer_finished(&self, index: usize, from_cache: bool) {
        if let Some(b) = self.bar(index) {
            b.finish_with_message(if from_cache { "cached" } else { "done" });
        }
    }
}
