//! Bytes to one URL and the answer back as it came: the [`Client`]'s
//! transport without envelopes, for tools that move messages they do not
//! open themselves (a recording proxy, a notification sender).
//!
//! [`Client`]: crate::Client

use bytes::Bytes;
use http::HeaderValue;

use crate::endpoint::Endpoint;
use crate::transport::{HttpReply, Transport, TransportConfig, TransportError};

/// POSTs bytes to one [`Endpoint`] over the [`Client`](crate::Client)'s
/// transport: the same TLS (bundled web PKI roots), the same rule that
/// plain `http` goes only to loopback hosts, the connect and request
/// timeouts, the response size limit, and connect failures retried with the
/// same bytes ([`TransportConfig`]). Unlike the `Client`, it judges no
/// answer: any status and body come back as they are.
///
/// ```
/// use et_http::{Endpoint, RawClient, TransportConfig};
/// let sandbox = Endpoint::parse("http://127.0.0.1:8877/server")?;
/// let client = RawClient::new(sandbox, TransportConfig::default())?;
/// assert_eq!(client.endpoint().to_string(), "http://127.0.0.1:8877/server");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct RawClient {
    endpoint: Endpoint,
    transport: Transport,
}

impl RawClient {
    /// A client for `endpoint` within `config`'s limits.
    pub fn new(endpoint: Endpoint, config: TransportConfig) -> Result<Self, TransportError> {
        Ok(Self {
            endpoint,
            transport: Transport::new(config)?,
        })
    }

    /// Where it posts.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// POSTs `body` as `content_type` and reads the whole answer, whatever
    /// its status: [`TransportError`] only when no complete answer came
    /// within the limits (connect, timeout, broken connection, a body over
    /// [`TransportConfig::max_response_bytes`]).
    pub async fn post(
        &self,
        content_type: HeaderValue,
        body: Bytes,
    ) -> Result<HttpReply, TransportError> {
        self.transport
            .post_as("raw", self.endpoint.uri(), content_type, body)
            .await
    }
}
