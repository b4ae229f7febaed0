//! A progress bar on a terminal (a line per tenth otherwise).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use stockpicks::domain::symbol::Symbol;
use stockpicks::ports::Progress;

/// A progress bar on a terminal; a line every 10% otherwise.
pub(crate) struct TermProgress {
    tty: bool,
    started: Instant,
    last: Mutex<(Instant, usize)>,
}

impl TermProgress {
    pub(crate) fn new() -> TermProgress {
        let now = Instant::now();
        TermProgress { tty: std::io::stderr().is_terminal(), started: now, last: Mutex::new((now, 0)) }
    }
}

impl Progress for TermProgress {
    fn advance(&self, done: usize, total: usize, symbol: &Symbol, _ok: bool) {
        let mut last = self.last.lock().expect("progress lock");
        if self.tty {
            if last.0.elapsed() < Duration::from_millis(80) && done < total {
                return;
            }
            last.0 = Instant::now();
            let width = 30;
            let filled = done * width / total.max(1);
            let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            eprint!("\r[{}{}] {done}/{total} {:<6} {:.0}/s ", "#".repeat(filled), ".".repeat(width - filled), symbol.as_str(), rate);
        } else {
            let decile = done * 10 / total.max(1);
            if decile > last.1 || done == total {
                last.1 = decile;
                eprintln!("fetched {done}/{total} ({:.1} s)", self.started.elapsed().as_secs_f64());
            }
        }
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}
