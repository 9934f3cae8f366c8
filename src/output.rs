//! The printer: the one place that writes to stdout and stderr, and owns progress bars.

use crate::net::Progress;
use crate::report::{esc_lines, to_json_text};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;

pub struct Printer {
    pub json: bool,
    pub quiet: bool,
    progress: bool,
}

impl Printer {
    pub fn new(json: bool, quiet: bool) -> Self {
        let progress = !quiet && std::io::stderr().is_terminal();
        Printer {
            json,
            quiet,
            progress,
        }
    }

    /// A progress reporter: a bar on stderr when it is a terminal, nothing otherwise.
    pub fn progress(&self) -> Box<dyn Progress> {
        if self.progress {
            Box::new(Bar {
                bar: Mutex::new(None),
                items: false,
            })
        } else {
            Box::new(crate::net::NoProgress)
        }
    }

    /// A counter of items (audit targets), started with their number: a bar on stderr when it is a
    /// terminal, nothing otherwise.
    pub fn counter(&self) -> Box<dyn Progress> {
        if self.progress {
            Box::new(Bar {
                bar: Mutex::new(None),
                items: true,
            })
        } else {
            Box::new(crate::net::NoProgress)
        }
    }

    /// Writes text to stdout; a closed pipe is not an error. Unsafe characters other than line ends
    /// are escaped ([`esc_lines`]), whatever a renderer let through.
    pub fn out(&self, s: &str) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(esc_lines(s).as_bytes());
        let _ = o.flush();
    }

    /// Writes text to stderr, escaped like [`Printer::out`].
    pub fn err(&self, s: &str) {
        let _ = std::io::stderr().lock().write_all(esc_lines(s).as_bytes());
    }

    /// Prints one JSON value and a newline on stdout ([`to_json_text`]).
    pub fn json<T: serde::Serialize>(&self, v: &T) {
        self.out(&to_json_text(v));
    }
}

/// A progress bar counting bytes (downloads) or items (audit targets).
struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    items: bool,
}

impl Progress for Bar {
    fn start(&self, what: &str, len: Option<u64>) {
        let bar = match len {
            Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
        };
        let style = if self.items {
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} {elapsed}")
        } else if len.is_some() {
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
        } else {
            ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
        };
        if let Ok(style) = style {
            bar.set_style(style.progress_chars("=> "));
        }
        let name = what.rsplit('/').next().unwrap_or(what).to_string();
        bar.set_message(name);
        *self.bar.lock().unwrap() = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(b) = self.bar.lock().unwrap().as_ref() {
            b.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(b) = self.bar.lock().unwrap().take() {
            b.finish_and_clear();
        }
    }
}
