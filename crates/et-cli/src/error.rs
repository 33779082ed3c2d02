//! The one error type of the `et` command: a readable message and an exit code.

use std::fmt;
use std::process::ExitCode;

/// Why a command failed, which decides its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Something did not verify or decrypt (a response, a notification, a demo step): exit 1.
    Rejected,
    /// Bad arguments, unreadable files, I/O or transport trouble: exit 2.
    Usage,
}

/// A failed command: one line for stderr and the exit code that goes with it.
///
/// The message never carries key material, salts or decrypted sensitive data:
/// it is built from the lower crates' errors, which promise the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    kind: FailureKind,
    message: String,
}

impl Failure {
    /// A verification or decryption failure (exit 1).
    pub fn rejected(message: impl fmt::Display) -> Self {
        Self {
            kind: FailureKind::Rejected,
            message: message.to_string(),
        }
    }

    /// A usage, input or transport failure (exit 2).
    pub fn usage(message: impl fmt::Display) -> Self {
        Self {
            kind: FailureKind::Usage,
            message: message.to_string(),
        }
    }

    /// Prefix the message with what was being done, e.g. the file name.
    #[must_use]
    pub fn context(self, what: impl fmt::Display) -> Self {
        Self {
            kind: self.kind,
            message: format!("{what}: {}", self.message),
        }
    }

    /// Which kind of failure this is.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self.kind {
            FailureKind::Rejected => ExitCode::from(1),
            FailureKind::Usage => ExitCode::from(2),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the lower layers put in their messages.
        let mut first = true;
        for line in self.message.lines() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(line.trim())?;
            first = false;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// Shorthand for the result of a command.
pub type CliResult<T = ()> = Result<T, Failure>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_line() {
        let f = Failure::usage("first\n  second\n").context("reading x.json");
        assert_eq!(f.to_string(), "reading x.json: first second");
        assert_eq!(f.kind(), FailureKind::Usage);
    }

    #[test]
    fn rejected_exits_one() {
        assert_eq!(Failure::rejected("bad sign").exit_code(), ExitCode::from(1));
    }
}
