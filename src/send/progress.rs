//! Progress while sending: a bar with rate and ETA on a terminal (indicatif), a plain log line
//! every few seconds otherwise (cron, CI, redirected output), nothing when quiet.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::summary::Counts;

/// Where progress goes.
#[derive(Debug)]
pub enum Progress {
    Bar(ProgressBar),
    Lines { every: Duration, started: Instant },
    Silent,
}

impl Progress {
    /// A bar when stderr is a terminal, log lines otherwise; nothing when `quiet`.
    pub fn auto(total: Option<u64>, quiet: bool) -> Progress {
        if quiet {
            Progress::Silent
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let template =
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} ETA {eta} {msg}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                every: Duration::from_secs(10),
                started: Instant::now(),
            }
        }
    }

    /// How often [`Progress::update`] should be called.
    pub fn tick(&self) -> Duration {
        match self {
            Progress::Bar(_) => Duration::from_millis(200),
            Progress::Lines { every, .. } => *every,
            Progress::Silent => Duration::from_secs(3600),
        }
    }

    /// Shows the counts so far.
    pub fn update(&self, counts: &Counts, total: Option<u64>) {
        match self {
            Progress::Bar(bar) => {
                bar.set_position(counts.seen());
                bar.set_message(status(counts));
            }
            Progress::Lines { started, .. } => {
                let secs = started.elapsed().as_secs_f64().max(0.001);
                let of = total.map(|t| format!("/{t}")).unwrap_or_default();
                tracing::info!(
                    "progress: {}{of} users, {:.1} messages/s; {}",
                    counts.seen(),
                    counts.done() as f64 / secs,
                    status(counts)
                );
            }
            Progress::Silent => {}
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

fn status(c: &Counts) -> String {
    let skipped = c.skipped_sent + c.skipped_failed + c.skipped_uncertain;
    format!(
        "sent {}, deferred {}, failed {}, uncertain {}, skipped {skipped}",
        c.sent, c.deferred, c.failed, c.uncertain
    )
}
