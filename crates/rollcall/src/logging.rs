//! Log output: tracing to stderr, every line passed through [`roster::id::mask_all`] so no
//! full ID number of a student ever reaches a terminal or the journal.
//!
//! Run by systemd (`JOURNAL_STREAM` names our stderr), lines carry no timestamp or colour (the
//! journal adds its own) and start with the syslog priority prefix `<N>`, so `journalctl -p`
//! filters by level; the event's fields follow its message as `key=value`.
//!
//! Why not `tracing-journald` with native fields: it sends field values as they are, and a
//! field value (a path under `originals/`, a roster value) can hold an ID number; masking has
//! to see the whole line.

use std::io::Write;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Whether stderr is connected to the journal (systemd sets `JOURNAL_STREAM=dev:inode`).
pub fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let stream = stream.to_string_lossy();
    let Some((dev, ino)) = stream.split_once(':') else {
        return false;
    };
    match std::fs::metadata("/proc/self/fd/2") {
        Ok(meta) => meta.dev().to_string() == dev && meta.ino().to_string() == ino,
        Err(_) => false,
    }
}

/// Sets up logging: `verbose` 0 warn, 1 info, 2+ debug (RUST_LOG overrides); `daemon` makes
/// info the least level.
pub fn init(verbose: u8, daemon: bool) {
    let level = match (verbose, daemon) {
        (0, false) => "warn",
        (0, true) | (1, _) => "info",
        _ => "debug",
    };
    // calamine logs how it copes with odd workbooks (capped repeats, unknown styles) as
    // warnings; rollcall reports what matters about a file itself, so those stay quiet unless
    // asked for with RUST_LOG.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},calamine=error,quick_xml=error"))
    });
    let journal = stderr_is_journal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Masked { journal })
        .with_ansi(false);
    if journal {
        builder.without_time().with_target(false).init();
    } else {
        builder.init();
    }
}

/// Makes one [`Line`] per event.
#[derive(Debug, Clone, Copy)]
struct Masked {
    journal: bool,
}

/// One formatted event, written (masked, prefixed) to stderr in one call when dropped.
#[derive(Debug)]
pub struct Line {
    buf: Vec<u8>,
    prefix: &'static str,
}

fn priority(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "<3>",
        Level::WARN => "<4>",
        Level::INFO => "<6>",
        _ => "<7>",
    }
}

impl<'a> MakeWriter<'a> for Masked {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            buf: Vec::new(),
            prefix: "",
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line {
            buf: Vec::new(),
            prefix: if self.journal {
                priority(meta.level())
            } else {
                ""
            },
        }
    }
}

impl Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let text = mask_line(self.prefix, &String::from_utf8_lossy(&self.buf));
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The line as written: every ID masked, the prefix before each line of a multi-line event
/// (the journal takes every line as its own entry).
fn mask_line(prefix: &str, text: &str) -> String {
    let masked = roster::id::mask_all(text);
    if prefix.is_empty() {
        return masked;
    }
    let mut out = String::with_capacity(masked.len() + 8);
    for line in masked.lines() {
        out.push_str(prefix);
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_masked_and_every_journal_line_has_its_priority() {
        let out = mask_line(
            "<4>",
            "frame 3: originals/学校/450421201307215136/a.jpg\nsecond 45042120130721513X\n",
        );
        assert!(!out.contains("450421201307215136"), "{out}");
        assert!(!out.contains("45042120130721513X"), "{out}");
        assert_eq!(out.lines().count(), 2);
        assert!(out.lines().all(|l| l.starts_with("<4>")), "{out}");
        assert_eq!(mask_line("", "plain\n"), "plain\n");
    }
}
