//! The one error type of the `et` command: a readable message and an exit code.

use std::fmt;
use std::process::ExitCode;

/// Declares [`FailureKind`] from one table: each kind with its exit code and
/// what the code means (as `--help` and the README say it), so the enum,
/// `ALL`, `code` and `meaning` cannot drift apart. (A local macro: et-model
/// has no shared string-enum macro on this branch.)
macro_rules! failure_kinds {
    ($($(#[$doc:meta])* $kind:ident = $code:literal, $meaning:expr;)*) => {
        /// Why a command failed, which decides its exit code. With success (0),
        /// these are `et`'s whole exit-code table ([`exit_codes`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum FailureKind {
            $($(#[$doc])* $kind,)*
        }

        impl FailureKind {
            /// Every kind, in exit-code order.
            pub(crate) const ALL: &'static [FailureKind] = &[$(Self::$kind),*];

            /// The process exit code.
            pub(crate) fn code(self) -> u8 {
                match self {
                    $(FailureKind::$kind => $code,)*
                }
            }

            /// What the exit code means, as `--help` and the README say it.
            pub(crate) fn meaning(self) -> &'static str {
                match self {
                    $(FailureKind::$kind => $meaning,)*
                }
            }
        }
    };
}

failure_kinds! {
    /// Something did not verify or decrypt (a response, a notification, a demo step).
    Rejected = 1,
        "verification or decryption failed: a response, a notification or a demo step";
    /// Bad arguments, unreadable or oversized input, I/O or transport trouble.
    Usage = 2,
        "usage or I/O: bad arguments, an unreadable or oversized input, a transport failure";
    /// ET refused, in a response whose signature verified.
    Refused = 3,
        "a verified refusal from ET (its status_code and message are printed), \
         or a sandbox admin step the sandbox refused";
    /// A receiver did not acknowledge a notification as ET expects.
    Unacknowledged = 4,
        "a receiver did not acknowledge a notification as ET expects \
         (et notify send): what it answered and what ET expects are printed";
}

/// Meaning of exit code 0.
pub(crate) const SUCCESS_MEANING: &str = "success: everything received verified and decrypted";

/// The exit-code table, `(code, meaning)` from 0 up: the one definition
/// `--help` and the README's table are made from.
pub fn exit_codes() -> impl Iterator<Item = (u8, &'static str)> {
    std::iter::once((0, SUCCESS_MEANING))
        .chain(FailureKind::ALL.iter().map(|k| (k.code(), k.meaning())))
}

/// A failed command: one line for stderr and the exit code that goes with it.
///
/// The cause is kept typed (its [`source`](std::error::Error::source)); the
/// message is the labels of what was being done, then the cause's text. It
/// never carries key material, salts or decrypted sensitive data: the lower
/// crates' errors promise the same.
#[derive(Debug)]
pub(crate) struct Failure {
    kind: FailureKind,
    /// What was being done, innermost first (a file name, an option).
    labels: Vec<Label>,
    cause: Cause,
}

/// Words around a cause: what was being done (before it), or what would
/// have worked (after it).
#[derive(Debug)]
enum Label {
    Context(String),
    Hint(String),
}

/// Declares [`Cause`]: one variant per lower layer's error type, with its
/// `From`, `Display` and `source()`, plus the command's own words.
macro_rules! causes {
    ($($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// What a command failed on: a lower layer's error, kept as its
        /// type, or the command's own words.
        #[derive(Debug)]
        #[non_exhaustive]
        pub(crate) enum Cause {
            $($(#[$doc])* $variant($ty),)*
            /// The command's own words: a bad argument, an answer it refuses.
            Message(String),
        }

        $(impl From<$ty> for Cause {
            fn from(e: $ty) -> Self {
                Cause::$variant(e)
            }
        })*

        impl fmt::Display for Cause {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $(Cause::$variant(e) => e.fmt(f),)*
                    Cause::Message(text) => f.write_str(text),
                }
            }
        }

        impl Cause {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                match self {
                    $(Cause::$variant(e) => Some(e),)*
                    Cause::Message(_) => None,
                }
            }
        }
    };
}

causes! {
    /// A call to ET, or the webhook.
    Http(et_http::Error),
    /// The HTTP client could not be set up.
    Transport(et_http::TransportError),
    /// Building, opening or verifying a message.
    Proto(et_proto::Error),
    /// A profile file that does not read.
    Profile(et_proto::ProfileFileError),
    /// A key (generating, loading, writing).
    Crypto(et_crypto::Error),
    /// The local sandbox.
    Sandbox(et_sandbox::Error),
    /// A notification inbox (`et inbox`).
    Inbox(et_inbox::Error),
    /// A name that is no sandbox admin action.
    Admin(et_sandbox::AdminParseError),
    /// A file, stdout, the runtime.
    Io(std::io::Error),
    /// Writing JSON.
    Json(serde_json::Error),
    /// An `--endpoint` that is not a usable URL.
    Endpoint(et_http::EndpointError),
    /// An `--endpoint` that is not a URI at all.
    Uri(http::uri::InvalidUri),
    /// A page or admin route of a running sandbox.
    Web(crate::web_client::WebError),
    /// A receiver's answer to `et notify send` that is not ET's acknowledgement.
    Acknowledgement(Box<crate::notify_send::WrongAcknowledgement>),
}

impl From<String> for Cause {
    fn from(text: String) -> Self {
        Cause::Message(text)
    }
}

impl From<&et_proto::Error> for Cause {
    fn from(e: &et_proto::Error) -> Self {
        Cause::Proto(e.clone())
    }
}

impl From<&str> for Cause {
    fn from(text: &str) -> Self {
        Cause::Message(text.to_owned())
    }
}

impl From<fmt::Arguments<'_>> for Cause {
    fn from(text: fmt::Arguments<'_>) -> Self {
        Cause::Message(text.to_string())
    }
}

impl Failure {
    fn new(kind: FailureKind, cause: impl Into<Cause>) -> Self {
        Self {
            kind,
            labels: Vec::new(),
            cause: cause.into(),
        }
    }

    /// A verification or decryption failure (exit 1).
    pub(crate) fn rejected(cause: impl Into<Cause>) -> Self {
        Self::new(FailureKind::Rejected, cause)
    }

    /// A verified refusal from ET (exit 3).
    pub(crate) fn refused(cause: impl Into<Cause>) -> Self {
        Self::new(FailureKind::Refused, cause)
    }

    /// A receiver that did not acknowledge a notification as ET expects (exit 4).
    pub(crate) fn unacknowledged(cause: impl Into<Cause>) -> Self {
        Self::new(FailureKind::Unacknowledged, cause)
    }

    /// A usage, input or transport failure (exit 2).
    pub(crate) fn usage(cause: impl Into<Cause>) -> Self {
        Self::new(FailureKind::Usage, cause)
    }

    /// An answer from ET that is not a verified success: ET's refusal
    /// whose signature verified (exit 3, see [`verified_refusal`]), or an
    /// answer that did not verify, decrypt or read (exit 1). Every command
    /// that calls ET or opens its answer maps the failure here.
    pub(crate) fn answer(e: et_proto::Error) -> Self {
        match verified_refusal(&e) {
            Some(_) => Self::refused(e),
            None => Self::rejected(e),
        }
    }

    /// A call to ET that failed: not built or not carried (exit 2), or
    /// answered ([`Failure::answer`]).
    pub(crate) fn call(e: et_http::Error) -> Self {
        match e {
            et_http::Error::Response(e) => Self::answer(e),
            et_http::Error::ProfileMismatch {
                source,
                verifies_with,
            } => Self::answer(source).hint(crate::profile::settings_hint(&verifies_with)),
            other => {
                let reached = other
                    .may_have_reached_et()
                    .then(|| MAY_HAVE_REACHED_ET.to_owned());
                Self::usage(other).hint(reached)
            }
        }
    }

    /// Prefix the message with what was being done, e.g. the file name.
    #[must_use]
    pub(crate) fn context(mut self, what: impl fmt::Display) -> Self {
        self.labels.push(Label::Context(what.to_string()));
        self
    }

    /// Adds what would have worked, e.g. the settings a message verifies under.
    #[must_use]
    pub(crate) fn hint(mut self, hint: Option<String>) -> Self {
        self.labels.extend(hint.map(Label::Hint));
        self
    }

    /// The process exit code for this failure.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut labelled, mut hint) = (String::new(), String::new());
        for label in self.labels.iter().rev() {
            match label {
                Label::Context(what) => labelled = labelled + what + ": ",
                Label::Hint(works) => hint = format!("{hint}; {works}"),
            }
        }
        // One line, whatever the lower layers put in their messages.
        let text = format!("{labelled}{}{hint}", self.cause);
        let mut first = true;
        for line in text.lines() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(line.trim())?;
            first = false;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.source()
    }
}

/// ET's status code and message when `e` is ET's refusal and its signature
/// verified: the one test behind exit code 3.
pub(crate) fn verified_refusal(e: &et_proto::Error) -> Option<(&et_model::ReplyCode, &str)> {
    match e {
        et_proto::Error::Api {
            code,
            message,
            authenticated: true,
        } => Some((code, message)),
        _ => None,
    }
}

/// What a failure after the request left means (et-http's
/// `Error::may_have_reached_et`): said after the transport's own words,
/// which only tell how the connection ended.
pub(crate) const MAY_HAVE_REACHED_ET: &str =
    "ET may have received this request and acted on it: the connection failed after it was sent";

/// Shorthand for the result of a command.
pub(crate) type CliResult<T = ()> = Result<T, Failure>;

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
    fn the_cause_stays_typed_behind_the_same_text() {
        use std::error::Error as _;
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let f = Failure::usage(io).context("keys/merchant.pem");
        assert_eq!(f.to_string(), "keys/merchant.pem: gone");
        let source = f.source().and_then(|s| s.downcast_ref::<std::io::Error>());
        assert_eq!(
            source.map(std::io::Error::kind),
            Some(std::io::ErrorKind::NotFound)
        );
        let proto = et_proto::Error::ReturnInfoMismatch;
        let f = Failure::rejected(&proto);
        assert_eq!(f.to_string(), proto.to_string());
        assert_eq!(f.source().and_then(|s| s.downcast_ref()), Some(&proto));
        assert!(Failure::usage("bad flag").source().is_none());
    }

    #[test]
    fn exit_codes_follow_the_table() {
        assert_eq!(Failure::rejected("bad sign").exit_code(), ExitCode::from(1));
        assert_eq!(Failure::usage("no file").exit_code(), ExitCode::from(2));
        assert_eq!(Failure::refused("200001").exit_code(), ExitCode::from(3));
        let codes: Vec<u8> = exit_codes().map(|(code, _)| code).collect();
        assert_eq!(
            Failure::unacknowledged("FAIL").exit_code(),
            ExitCode::from(4)
        );
        assert_eq!(codes, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn only_a_verified_refusal_is_exit_3_whichever_way_it_arrives() {
        let refusal = |authenticated| et_proto::Error::Api {
            code: et_model::ReplyCode::from_code("200001"),
            message: "order not found".into(),
            authenticated,
        };
        let code = |f: Failure| f.kind.code();
        assert_eq!(code(Failure::answer(refusal(true))), 3);
        assert_eq!(code(Failure::answer(refusal(false))), 1);
        assert_eq!(
            code(Failure::answer(et_proto::Error::ReturnInfoMismatch)),
            1
        );
        assert_eq!(
            code(Failure::call(et_http::Error::Response(refusal(true)))),
            3
        );
        assert_eq!(
            code(Failure::call(et_http::Error::Response(refusal(false)))),
            1
        );
        assert_eq!(
            code(Failure::call(et_http::Error::Request(
                et_proto::Error::ReturnInfoMismatch
            ))),
            2
        );
    }
}
