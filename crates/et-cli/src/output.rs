//! Writing to stdout and stderr without panicking.
//!
//! `println!` panics when stdout is a pipe whose reader has gone
//! (`et … | head -1`), which would end as an "internal error" line. Here a
//! reader that has gone is not an error: the rest of the output is dropped
//! quietly and the exit code still says how the command went.

use std::fmt;
use std::io::{self, Write};

use crate::error::{CliResult, Failure};

/// Writes `text` to stdout as is.
pub fn text(text: impl fmt::Display) -> CliResult {
    let mut out = io::stdout().lock();
    quiet_on_broken_pipe(write!(out, "{text}").and_then(|()| out.flush()))
}

/// Writes `text` and a newline to stdout.
pub fn line(text: impl fmt::Display) -> CliResult {
    self::text(format_args!("{text}\n"))
}

/// Writes one line to stderr; if even that fails there is nobody left to tell.
pub fn error_line(text: impl fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

fn quiet_on_broken_pipe(result: io::Result<()>) -> CliResult {
    match result {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(Failure::usage(e).context("writing to stdout"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_broken_pipe_is_quiet() {
        let broken = io::Error::from(io::ErrorKind::BrokenPipe);
        assert_eq!(quiet_on_broken_pipe(Err(broken)), Ok(()));
        let full = io::Error::other("disk full");
        let failure = quiet_on_broken_pipe(Err(full)).expect_err("reported");
        assert_eq!(failure.to_string(), "writing to stdout: disk full");
    }
}
