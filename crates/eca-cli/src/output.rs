//! The one place the binary writes to the terminal. Everything goes through locked handles
//! with `std::io::Write`; a closed pipe (`eca validate | head`) is not an error worth a panic,
//! so write failures are ignored.

use std::io::Write;

use serde::Serialize;

/// Writes text to standard output as it is.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// Writes one line to standard output.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Writes a value as pretty-printed JSON, followed by a newline, to standard output.
pub fn json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text);
    Ok(())
}

/// Writes `warning: ...` to standard error.
pub fn warning(message: &str) {
    eprint_line(&format!("warning: {message}"));
}

/// Writes `error: ...` to standard error.
pub fn error(message: &str) {
    eprint_line(&format!("error: {message}"));
}

/// Writes text to standard error as it is.
pub fn eprint(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.flush();
}

fn eprint_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    let _ = err.write_all(b"\n");
    let _ = err.flush();
}

/// A path as printed: `/` separators, without a leading `./`.
pub fn path(p: &std::path::Path) -> String {
    eca_metadata::diagnostic::display_path(p.strip_prefix(".").unwrap_or(p))
}
