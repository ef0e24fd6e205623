//! A progress line on stderr, drawn only on a terminal and at most every 100 ms (unless
//! forced), shared by `bundle replay`, `capture --spool` and `capture --url`.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const BAR_WIDTH: usize = 30;
const REDRAW_EVERY: Duration = Duration::from_millis(100);

/// The redrawn progress line.
pub(crate) struct Bar {
    tty: bool,
    drawn_at: Option<Instant>,
    visible: bool,
}

impl Bar {
    /// A bar on stderr, drawn only when stderr is a terminal.
    pub(crate) fn stderr() -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
            drawn_at: None,
            visible: false,
        }
    }

    /// Redraws `done` of `total` `unit`: a bar and a percentage when the total is known, else
    /// a count; `suffix` follows. Skipped off a terminal and, unless `force`, within 100 ms of
    /// the last draw.
    pub(crate) fn draw(
        &mut self,
        force: bool,
        done: u64,
        total: Option<u64>,
        unit: &str,
        suffix: &str,
    ) {
        if !self.tty {
            return;
        }
        let now = Instant::now();
        if !force
            && self
                .drawn_at
                .is_some_and(|t| now.duration_since(t) < REDRAW_EVERY)
        {
            return;
        }
        self.drawn_at = Some(now);
        let mut err = std::io::stderr().lock();
        let _ = match total {
            Some(total) => {
                let filled = done
                    .saturating_mul(BAR_WIDTH as u64)
                    .checked_div(total)
                    .map_or(BAR_WIDTH, |n| usize::try_from(n).unwrap_or(BAR_WIDTH))
                    .min(BAR_WIDTH);
                let percent = done.saturating_mul(100).checked_div(total).unwrap_or(100);
                write!(
                    err,
                    "\r\x1b[2K[{}{}] {percent:>3}% {done}/{total} {unit}{suffix}",
                    "#".repeat(filled),
                    "-".repeat(BAR_WIDTH - filled),
                )
            }
            None => write!(err, "\r\x1b[2K{done} {unit}{suffix}"),
        };
        let _ = err.flush();
        self.visible = true;
    }

    /// Clears the bar so a line can be printed in its place.
    pub(crate) fn clear(&mut self) {
        if self.tty && self.visible {
            eprint!("\r\x1b[2K");
            self.visible = false;
        }
    }

    /// Ends the bar's line (after a last forced draw).
    pub(crate) fn finish(&mut self) {
        if self.tty && self.visible {
            eprintln!();
            self.visible = false;
        }
    }
}
