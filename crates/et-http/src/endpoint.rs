//! Where requests go: ET's test or production URL, or any URL (the local
//! sandbox is one). Plain `http` is refused unless the host is loopback.

use std::fmt;
use std::net::IpAddr;

use http::Uri;

/// A validated ET API URL.
///
/// `https` is accepted for any host; `http` only for `localhost`,
/// `127.0.0.0/8` and `::1`, so a secret-bearing envelope never crosses a
/// network in clear text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    uri: Uri,
}

/// Why a URL cannot be an [`Endpoint`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointError {
    /// The text is not an absolute URL.
    Malformed(String),
    /// The scheme is neither `https` nor `http`.
    UnsupportedScheme(String),
    /// `http` was asked for a host that is not loopback.
    PlainHttpToRemoteHost(String),
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(why) => write!(f, "endpoint is not an absolute URL: {why}"),
            Self::UnsupportedScheme(s) => write!(f, "endpoint scheme `{s}` is not https or http"),
            Self::PlainHttpToRemoteHost(h) => write!(
                f,
                "plain http is allowed only for loopback hosts, not `{h}`; use https"
            ),
        }
    }
}

impl std::error::Error for EndpointError {}

impl Endpoint {
    /// ET's test (joint debugging) environment, [`et_proto::TEST_ENDPOINT`].
    pub fn test() -> Self {
        Self {
            uri: Uri::from_static(et_proto::TEST_ENDPOINT),
        }
    }

    /// ET's production environment, [`et_proto::PRODUCTION_ENDPOINT`].
    pub fn production() -> Self {
        Self {
            uri: Uri::from_static(et_proto::PRODUCTION_ENDPOINT),
        }
    }

    /// Any URL, e.g. `http://127.0.0.1:8877/server` for the local sandbox.
    pub fn parse(url: &str) -> Result<Self, EndpointError> {
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| EndpointError::Malformed(e.to_string()))?;
        let host = uri
            .host()
            .ok_or_else(|| EndpointError::Malformed("no host".into()))?;
        match uri.scheme_str() {
            Some("https") => Ok(Self { uri }),
            Some("http") if is_loopback(host) => Ok(Self { uri }),
            Some("http") => Err(EndpointError::PlainHttpToRemoteHost(host.to_owned())),
            Some(other) => Err(EndpointError::UnsupportedScheme(other.to_owned())),
            None => Err(EndpointError::Malformed("no scheme".into())),
        }
    }

    /// The URL requests are POSTed to.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.uri.fmt(f)
    }
}

impl std::str::FromStr for Endpoint {
    type Err = EndpointError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `localhost`, an IPv4 address in 127/8, or `::1` (with or without brackets).
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_accepted_anywhere() {
        assert!(Endpoint::parse("https://example.com/server").is_ok());
        assert_eq!(Endpoint::test().uri(), et_proto::TEST_ENDPOINT);
        assert_eq!(
            Endpoint::production().to_string(),
            et_proto::PRODUCTION_ENDPOINT
        );
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8877/server",
            "http://127.3.2.1/server",
            "http://localhost:1/x",
            "http://[::1]:80/server",
        ] {
            assert!(Endpoint::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/server",
            "http://example.com/",
            "http://[::2]/",
        ] {
            assert!(
                matches!(
                    Endpoint::parse(bad),
                    Err(EndpointError::PlainHttpToRemoteHost(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn other_inputs_are_rejected_with_a_reason() {
        assert!(matches!(
            Endpoint::parse("ftp://127.0.0.1/"),
            Err(EndpointError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            Endpoint::parse("/server"),
            Err(EndpointError::Malformed(_))
        ));
        assert!(matches!(
            Endpoint::parse("not a url"),
            Err(EndpointError::Malformed(_))
        ));
    }
}
