//! The merchant's client: one async method per ET operation.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use et_model::{Operation, ServerType};
use et_proto::{
    BuiltRequest, Credentials, Instance, Merchant, Profile, Reply, RequestOptions, SerialNumbers,
    UntypedReply,
};
use tracing::{field, Instrument};

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::transport::{Transport, TransportConfig, TransportError};

/// Settings of a [`Client`] built by [`Client::configured`].
#[derive(Clone, Debug, Default)]
pub struct ClientConfig {
    /// Timeouts, limits, pool and retry policy.
    pub transport: TransportConfig,
    /// This process's share of the serial numbers when several instances of
    /// the service call ET with the same merchant number (see
    /// [`et_proto::Instance`]). Default: the only instance.
    pub instance: Instance,
}

/// Calls ET's API: builds each envelope with [`et_proto::Merchant`], POSTs it
/// over a pooled keep-alive HTTPS connection and opens the answer.
///
/// Cheap to clone; clones share the connection pool and the serial-number
/// source.
///
/// # Retries
///
/// A call is re-sent automatically **only** when the connection to ET could
/// not be made (see [`crate::RetryPolicy`]); the re-sent request is the same
/// bytes with the same `serial_number`. Any failure after the connection
/// was made may mean ET received the request, so it is returned, not
/// retried ([`Error::may_have_reached_et`]).
///
/// # Tracing
///
/// Each call runs in an `et.call` span with `server_type`, `serial_number`,
/// `status` (HTTP), `et_status` (ET's `status_code`, when ET answered) and
/// `latency_ms`. Keys, sign strings, envelopes and
/// payloads are never recorded.
#[derive(Clone, Debug)]
pub struct Client {
    endpoint: Endpoint,
    merchant: Arc<Merchant>,
    transport: Transport,
}

impl Client {
    /// A client with default settings (a single instance) and bundled web
    /// PKI roots.
    pub fn new(
        endpoint: Endpoint,
        credentials: Credentials,
        profile: Profile,
    ) -> Result<Self, TransportError> {
        Self::configured(endpoint, credentials, profile, ClientConfig::default())
    }

    /// A client with explicit settings, e.g. instance 2 of 4:
    ///
    /// ```no_run
    /// # fn f(endpoint: et_http::Endpoint, credentials: et_proto::Credentials) -> Result<(), Box<dyn std::error::Error>> {
    /// use et_http::{Client, ClientConfig};
    /// use et_proto::{Instance, Profile};
    ///
    /// let config = ClientConfig { instance: Instance::new(2, 4)?, ..ClientConfig::default() };
    /// let client = Client::configured(endpoint, credentials, Profile::default(), config)?;
    /// # Ok(()) }
    /// ```
    pub fn configured(
        endpoint: Endpoint,
        credentials: Credentials,
        profile: Profile,
        config: ClientConfig,
    ) -> Result<Self, TransportError> {
        let serials =
            SerialNumbers::for_instance(credentials.merchant_number.clone(), config.instance);
        let merchant = Merchant::new(credentials, profile).with_serial_numbers(serials);
        Self::with_config(endpoint, merchant, config.transport)
    }

    /// A client for an existing [`Merchant`] with the given transport settings.
    pub fn with_config(
        endpoint: Endpoint,
        merchant: Merchant,
        config: TransportConfig,
    ) -> Result<Self, TransportError> {
        Ok(Self::from_parts(
            endpoint,
            merchant,
            Transport::new(config)?,
        ))
    }

    /// A client trusting the roots (or client certificate) of `tls`, e.g. a
    /// private CA in front of a test environment.
    pub fn with_tls_config(
        endpoint: Endpoint,
        merchant: Merchant,
        config: TransportConfig,
        tls: rustls::ClientConfig,
    ) -> Self {
        Self::from_parts(endpoint, merchant, Transport::with_tls_config(tls, config))
    }

    fn from_parts(endpoint: Endpoint, merchant: Merchant, transport: Transport) -> Self {
        Self {
            endpoint,
            merchant: Arc::new(merchant),
            transport,
        }
    }

    /// The merchant (credentials, profile) this client signs as.
    pub fn merchant(&self) -> &Merchant {
        &self.merchant
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Calls any operation with default envelope options.
    pub async fn call<Op: Operation>(&self, op: &Op) -> Result<Reply<Op::Output>, Error> {
        self.call_with(op, &RequestOptions::default()).await
    }

    /// Calls any operation with explicit `return_info`, `extend_info` and
    /// `callback_process`.
    pub async fn call_with<Op: Operation>(
        &self,
        op: &Op,
        options: &RequestOptions,
    ) -> Result<Reply<Op::Output>, Error> {
        self.fresh_serial_on_reuse(|| async move {
            let request = self
                .merchant
                .build_with(op, options)
                .map_err(Error::Request)?;
            self.exchange(&request, |body| self.merchant.open::<Op>(&request, body))
                .await
        })
        .await
    }

    /// Calls any `server_type` with `data` and `sensitive_data` given as JSON
    /// text, and returns the answer untyped (see
    /// [`et_proto::Merchant::build_untyped`]). For operations et-model does not
    /// type; the same retry policy applies.
    pub async fn call_untyped(
        &self,
        server_type: ServerType,
        data_json: &str,
        sensitive_json: &str,
        options: &RequestOptions,
    ) -> Result<UntypedReply, Error> {
        let server_type = &server_type;
        self.fresh_serial_on_reuse(|| async move {
            let request = self
                .merchant
                .build_untyped(server_type.clone(), data_json, sensitive_json, options)
                .map_err(Error::Request)?;
            self.exchange(&request, |body| {
                self.merchant.open_untyped(Some(&request), body)
            })
            .await
        })
        .await
    }

    /// Runs `attempt` (build with a new serial number, send, open) and runs
    /// it once more if ET refused the serial number as already used.
    async fn fresh_serial_on_reuse<T, F, Fut>(&self, attempt: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        match attempt().await {
            Err(e) if self.is_reused_serial_refusal(&e) => {
                tracing::warn!(error = %e, "ET refused a reused serial number and created nothing; sending once more with a fresh one");
                attempt().await
            }
            done => done,
        }
    }

    /// An authenticated refusal with the profile's reused-serial code. An
    /// unsigned one proves nothing (it may hide a success), so it is not
    /// retried.
    fn is_reused_serial_refusal(&self, e: &Error) -> bool {
        let reused = self.merchant.profile().reused_serial_code.as_ref();
        matches!(
            e,
            Error::Response(et_proto::Error::Api { code, authenticated: true, .. })
                if Some(code) == reused
        )
    }

    /// POSTs a built request and opens the answer with `open`, in one
    /// `et.call` span (server type, serial number, HTTP and ET status,
    /// latency; never payloads or keys).
    async fn exchange<T: EtStatus>(
        &self,
        request: &BuiltRequest,
        open: impl FnOnce(&[u8]) -> Result<T, et_proto::Error>,
    ) -> Result<T, Error> {
        let span = tracing::info_span!(
            "et.call",
            server_type = request.server_type.as_str(),
            serial_number = request.serial_number.as_str(),
            status = field::Empty,
            et_status = field::Empty,
            latency_ms = field::Empty,
        );
        let started = Instant::now();
        let sent = self
            .transport
            .post(self.endpoint.uri(), Bytes::from(request.body.clone()))
            .instrument(span.clone())
            .await;
        span.record("latency_ms", elapsed_ms(started));
        let reply = match sent {
            Ok(reply) => reply,
            Err(e) => {
                if let TransportError::Status { status, .. } = &e {
                    span.record("status", status.as_u16());
                }
                tracing::warn!(parent: &span, error = %e, may_have_reached_et = e.may_have_reached_et(), "ET call failed");
                return Err(e.into());
            }
        };
        span.record("status", reply.status.as_u16());
        let opened = open(&reply.body);
        match &opened {
            Ok(reply) => {
                span.record("et_status", reply.et_status());
                tracing::info!(parent: &span, "ET call succeeded");
            }
            Err(e) => {
                if let et_proto::Error::Api { code, .. } = e {
                    span.record("et_status", code.as_str());
                }
                tracing::warn!(parent: &span, error = %e, "ET answer rejected");
            }
        }
        opened.map_err(Error::Response)
    }
}

/// One method per operation of [`et_model::for_each_operation!`], each a
/// typed [`Client::call`].
macro_rules! operation_methods {
    ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
        impl Client {
            $(
                $(#[$doc])*
                pub async fn $method(&self, op: &et_model::$op) -> Result<Reply<et_model::$output>, Error> {
                    self.call(op).await
                }
            )*
        }
    };
}
et_model::for_each_operation!(operation_methods);

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// ET's `status_code` of an opened answer, for the call's span.
trait EtStatus {
    fn et_status(&self) -> &str;
}

impl<T> EtStatus for Reply<T> {
    fn et_status(&self) -> &str {
        self.status_code.as_str()
    }
}

impl EtStatus for UntypedReply {
    fn et_status(&self) -> &str {
        self.reply.status_code.as_str()
    }
}
