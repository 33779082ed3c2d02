//! The client's error: which side failed, and whether ET may have the request.

use std::fmt;

use crate::transport::TransportError;

/// Why a call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built (an invalid payload, a key that cannot
    /// encrypt); nothing was sent.
    Request(et_proto::Error),
    /// The bytes did not make the round trip (see [`TransportError`]).
    Transport(TransportError),
    /// ET's answer arrived but is an error (`Api` with ET's status code), or
    /// could not be verified, decrypted or read.
    Response(et_proto::Error),
    /// ET's answer does not verify or open under the client's profile but
    /// does under another: `verifies_with` names the settings to change,
    /// as `(setting, value)` (e.g. `("sign_hash", "sha1")`); `et profile
    /// detect` writes the profile file.
    ProfileMismatch {
        /// Why it failed under the client's profile.
        source: et_proto::Error,
        /// The settings under which it verifies and opens.
        verifies_with: Vec<(&'static str, &'static str)>,
    },
}

impl Error {
    /// Whether ET may have received and acted on the request. When `true`,
    /// find out (e.g. `query_orders`) before sending a new request: it
    /// would carry a new serial number and could create a second order.
    ///
    /// The one refusal known to have created nothing, ET's signed "serial
    /// number already used", was already retried once by the [`Client`]
    /// with a fresh serial number; an error returned after that retry
    /// describes the second attempt.
    ///
    /// [`Client`]: crate::Client
    pub fn may_have_reached_et(&self) -> bool {
        match self {
            Self::Request(_) => false,
            Self::Transport(e) => e.may_have_reached_et(),
            Self::Response(_) | Self::ProfileMismatch { .. } => true,
        }
    }

    /// ET's `status_code` when ET answered with an error.
    pub fn api_status(&self) -> Option<&et_model::ReplyCode> {
        match self {
            Self::Response(et_proto::Error::Api { code, .. }) => Some(code),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request(e) => write!(f, "request not sent: {e}"),
            Self::Transport(e) => write!(f, "transport: {e}"),
            Self::Response(e) => write!(f, "response: {e}"),
            Self::ProfileMismatch {
                source,
                verifies_with,
            } => {
                write!(f, "response: {source}; it verifies with")?;
                for (setting, value) in verifies_with {
                    write!(f, " {setting} = {value}")?;
                }
                f.write_str(" (set them in the profile)")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Request(e) | Self::Response(e) | Self::ProfileMismatch { source: e, .. } => {
                Some(e)
            }
            Self::Transport(e) => Some(e),
        }
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Self::Transport(e)
    }
}
