//! A progress bar for long commands: shown only on an interactive terminal, never in CI or with
//! `--quiet`, so logs and piped output stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total` replications, or nothing when not wanted.
    pub fn new(total: u64, quiet: bool, what: &str) -> Progress {
        let wanted = !quiet
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none()
            && total > 1;
        let bar = wanted.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} replications, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(what.to_string());
            bar
        });
        Progress { bar }
    }

    /// A callback for the runner that advances the bar.
    pub fn callback(&self) -> Option<std::sync::Arc<dyn Fn(u64) + Send + Sync>> {
        let bar = self.bar.clone()?;
        Some(std::sync::Arc::new(move |n| bar.inc(n)))
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
