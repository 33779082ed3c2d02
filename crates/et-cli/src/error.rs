//! The one error type of the `et` command: a readable message and an exit code.

use std::fmt;
use std::process::ExitCode;

/// Why a command failed, which decides its exit code. With success (0),
/// these are `et`'s whole exit-code table ([`exit_codes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Something did not verify or decrypt (a response, a notification, a demo step): exit 1.
    Rejected,
    /// Bad arguments, unreadable or oversized input, I/O or transport trouble: exit 2.
    Usage,
    /// ET refused, in a response whose signature verified: exit 3.
    Refused,
}

impl FailureKind {
    /// Every kind, in exit-code order.
    pub const ALL: [FailureKind; 3] = [Self::Rejected, Self::Usage, Self::Refused];

    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            FailureKind::Rejected => 1,
            FailureKind::Usage => 2,
            FailureKind::Refused => 3,
        }
    }

    /// What the exit code means, as `--help` and the README say it.
    pub fn meaning(self) -> &'static str {
        match self {
            FailureKind::Rejected => {
                "verification or decryption failed: a response, a notification or a demo step"
            }
            FailureKind::Usage => {
                "usage or I/O: bad arguments, an unreadable or oversized input, a transport failure"
            }
            FailureKind::Refused => {
                "a verified refusal from ET (its status_code and message are printed), \
                 or a sandbox admin step the sandbox refused"
            }
        }
    }
}

/// Meaning of exit code 0.
pub const SUCCESS_MEANING: &str = "success: everything received verified and decrypted";

/// The exit-code table, `(code, meaning)` from 0 up: the one definition
/// `--help` and the README's table are made from.
pub fn exit_codes() -> impl Iterator<Item = (u8, &'static str)> {
    std::iter::once((0, SUCCESS_MEANING)).chain(FailureKind::ALL.map(|k| (k.code(), k.meaning())))
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

    /// A verified refusal from ET (exit 3).
    pub fn refused(message: impl fmt::Display) -> Self {
        Self {
            kind: FailureKind::Refused,
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

    /// The process exit code for this failure.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
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
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn arguments_parse_and_a_bad_one_is_an_error_not_a_panic() {
        let cli = Cli::try_parse_from(["et", "keygen", "--bits", "1024", "--out", "keys"]).unwrap();
        assert!(matches!(cli.command, Command::Keygen(ref k) if k.bits == 1024));
        assert!(Cli::try_parse_from(["et", "keygen", "--bits", "12"]).is_err());
    }

    #[test]
    fn display_is_one_line() {
        let f = Failure::usage("first\n  second\n").context("reading x.json");
        assert_eq!(f.to_string(), "reading x.json: first second");
        assert_eq!(f.kind, FailureKind::Usage);
    }

    #[test]
    fn exit_codes_follow_the_table() {
        assert_eq!(Failure::rejected("bad sign").exit_code(), ExitCode::from(1));
        assert_eq!(Failure::usage("no file").exit_code(), ExitCode::from(2));
        assert_eq!(Failure::refused("200001").exit_code(), ExitCode::from(3));
        let codes: Vec<u8> = exit_codes().map(|(code, _)| code).collect();
        assert_eq!(codes, [0, 1, 2, 3]);
    }
}
