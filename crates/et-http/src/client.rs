//! The merchant's client: one async method per ET operation.

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use et_model::{CreateOrder, Effect, Operation, ServerType};
use et_proto::{
    BuiltRequest, Credentials, Instance, Merchant, Profile, Reply, RequestOptions, SerialNumbers,
    UntypedReply, VerifiedBy,
};
use tracing::{field, Instrument};

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::measure::{self, Outcome};
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
/// # Serial numbers
///
/// Each request's serial number is numbered with the system clock's time
/// ([`Client::with_clock`] replaces it). When this instance has used up a
/// second's serial numbers ([`et_proto::SerialsExhausted`]), the call waits
/// for the next second on tokio's timer: the worker thread goes on with
/// other tasks meanwhile.
///
/// # Retries
///
/// What may be sent again depends on what a second copy would do at ET
/// ([`et_model::Effect`], declared by each operation):
///
/// * **Every operation** is re-sent when the connection to ET could not be
///   made ([`crate::RetryPolicy`]): the same bytes, the same
///   `serial_number`; nothing of it left this machine.
/// * **Operations that change nothing** (query, rate, estimate,
///   institutions) **or set the same state again** (payment address) are
///   also re-sent, built anew with a fresh serial number and with backoff,
///   after a failure once the connection was made (timeout, reset, 5xx),
///   within the policy's attempts and its [`deadline`](crate::RetryPolicy::deadline).
///   Dropping the call's future (e.g. `tokio::time::timeout`) stops it too.
/// * **Operations that create something** (order, attachment, refund,
///   jump order) are never re-sent after the connection was made: the
///   error says so ([`Error::may_have_reached_et`]) and the caller queries
///   before deciding.
/// * On ET's signed "serial number already used"
///   ([`Profile::reused_serial_code`], which the default profile leaves
///   unnamed, since ET's code is not documented) the call is sent once more
///   with a fresh serial number, only if the refusal echoes this request's
///   `return_info` and a second copy cannot have a second effect: the
///   refused copy may be a duplicate of ours that a proxy sent after the
///   first took effect. So repeatable operations, and orders when the
///   profile also names ET's refusal of a second order with the same
///   `merchant_order_id` ([`Profile::duplicate_order_code`]); never an
///   attachment or a refund.
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
    clock: Clock,
}

/// The wall clock serial numbers are numbered with and replies are
/// opened at (whether an accepted ET key is still in force).
#[derive(Clone)]
struct Clock(Arc<dyn Fn() -> SystemTime + Send + Sync>);

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
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
            clock: Clock(Arc::new(SystemTime::now)),
        }
    }

    /// Replaces the wall clock serial numbers are numbered with and
    /// replies are opened at (an accepted ET key's `not_after`; default
    /// [`SystemTime::now`]), e.g. a fixed or test-driven clock.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Clock(Arc::new(clock));
        self
    }

    /// The clock's time now.
    fn now(&self) -> SystemTime {
        (self.clock.0)()
    }

    /// The merchant (credentials, profile) this client signs as.
    pub fn merchant(&self) -> &Merchant {
        &self.merchant
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Calls any operation with default envelope options (see the type's
    /// docs for when it is sent more than once).
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
        let resend = Resend::of(&Op::SERVER_TYPE, Op::EFFECT);
        self.send_until_settled(resend, |now| {
            let request = self.merchant.build_with(op, options, now)?;
            Ok((request, |request: &BuiltRequest, body: &[u8]| {
                self.merchant.open::<Op>(request, body, self.now())
            }))
        })
        .await
    }

    /// Calls any `server_type` with `data` and `sensitive_data` given as JSON
    /// text, and returns the answer untyped (see
    /// [`et_proto::Merchant::build_untyped`]). For operations et-model does not
    /// type; the same retry policy applies, by the effect of the operation
    /// `server_type` names (an unknown one counts as creating something).
    pub async fn call_untyped(
        &self,
        server_type: ServerType,
        data_json: &str,
        sensitive_json: &str,
        options: &RequestOptions,
    ) -> Result<UntypedReply, Error> {
        let resend = Resend::of_wire(self.merchant.profile(), server_type.as_str());
        let server_type = &server_type;
        self.send_until_settled(resend, |now| {
            let request = self.merchant.build_untyped(
                server_type.clone(),
                data_json,
                sensitive_json,
                options,
                now,
            )?;
            Ok((request, |request: &BuiltRequest, body: &[u8]| {
                self.merchant.open_untyped(Some(request), body, self.now())
            }))
        })
        .await
    }

    /// Builds (with a fresh serial number each time), sends and opens until
    /// the answer settles the call:
    ///
    /// * a signed refusal with the profile's reused-serial code, echoing
    ///   this request, is sent once more when a second copy cannot have a
    ///   second effect ([`Resend::on_reused_serial`]);
    /// * a failure after the connection was made (timeout, reset, 5xx) is
    ///   sent again, with backoff, only for operations that change nothing
    ///   or set the same state again, within the retry policy's attempts
    ///   and deadline.
    async fn send_until_settled<T: EtStatus, O>(
        &self,
        resend: Resend,
        build: impl Fn(SystemTime) -> Result<(BuiltRequest, O), et_proto::Error>,
    ) -> Result<T, Error>
    where
        O: Fn(&BuiltRequest, &[u8]) -> Result<T, et_proto::Error>,
    {
        let policy = &self.transport.config().retry;
        let started = Instant::now();
        let mut reused_serial_retried = false;
        let mut attempt = 1;
        loop {
            let (request, open) = self.numbered(&build).await?;
            let result = self.exchange(&request, |body| open(&request, body)).await;
            let Err(e) = &result else { return result };
            if !reused_serial_retried && self.may_resend_on_reused_serial(resend, e) {
                reused_serial_retried = true;
                crate::measure::retry(request_operation(&request), "reused_serial");
                tracing::warn!(error = %e, "ET refused a reused serial number; sending once more with a fresh one");
                continue;
            }
            let pause = policy.pause_before(attempt + 1);
            let transient = matches!(e, Error::Transport(t) if t.may_have_reached_et());
            if resend.effect.is_repeatable()
                && transient
                && attempt < policy.max_attempts
                && started.elapsed() + pause < policy.deadline
            {
                attempt += 1;
                crate::measure::retry(request_operation(&request), "transient");
                tracing::warn!(error = %e, attempt, "a call that changes nothing failed after the connection was made; sending it again");
                tokio::time::sleep(pause).await;
                continue;
            }
            return result;
        }
    }

    /// Builds with the clock's time; when that second's serial numbers are
    /// used up, waits on tokio's timer (never blocking the worker thread)
    /// until the time et-proto names, and builds again.
    async fn numbered<R>(
        &self,
        build: impl Fn(SystemTime) -> Result<R, et_proto::Error>,
    ) -> Result<R, Error> {
        loop {
            let now = self.now();
            match build(now) {
                Err(et_proto::Error::SerialsExhausted(exhausted)) => {
                    let wait = exhausted.until.duration_since(now).unwrap_or_default();
                    tracing::debug!(?wait, "this second's serial numbers are used up; waiting");
                    tokio::time::sleep_until(tokio::time::Instant::now() + wait).await;
                }
                built => return built.map_err(Error::Request),
            }
        }
    }

    /// Whether `e` is ET's refusal of a reused serial number, as the profile
    /// names it, answering this very request, for an operation a second
    /// copy of which cannot have a second effect. A refusal that is
    /// unsigned or answers another request proves nothing (a proxy may
    /// have sent our request twice and handed us the second copy's
    /// refusal, or replayed an old one), so it is never acted on.
    fn may_resend_on_reused_serial(&self, resend: Resend, e: &Error) -> bool {
        let profile = self.merchant.profile();
        let code_named = matches!(
            e,
            Error::Response(et_proto::Error::Api { code, authenticated: true, .. })
                if Some(code) == profile.reused_serial_code.as_ref()
        );
        code_named && resend.on_reused_serial(profile)
    }

    /// Whether `e` is ET's signed refusal of a second order with the same
    /// `merchant_order_id`, as the profile names it
    /// ([`Profile::duplicate_order_code`]): the order of the first attempt
    /// exists, so query it instead of creating another. Always `false` when
    /// the profile names no code (ET's is not documented).
    pub fn is_duplicate_order(&self, e: &Error) -> bool {
        let named = self.merchant.profile().duplicate_order_code.as_ref();
        matches!(
            e,
            Error::Response(et_proto::Error::Api { code, authenticated: true, .. })
                if Some(code) == named
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
        let operation = request_operation(request);
        let started = Instant::now();
        let sent = self
            .transport
            .post(
                operation,
                self.endpoint.uri(),
                Bytes::from(request.body.clone()),
            )
            .instrument(span.clone())
            .await;
        span.record("latency_ms", elapsed_ms(started));
        let reply = match sent {
            Ok(reply) => reply,
            Err(e) => {
                measure::exchange(operation, Outcome::Transport, started.elapsed());
                if let TransportError::Status { status, .. } = &e {
                    span.record("status", status.as_u16());
                }
                tracing::warn!(parent: &span, error = %e, may_have_reached_et = e.may_have_reached_et(), "ET call failed");
                return Err(e.into());
            }
        };
        span.record("status", reply.status.as_u16());
        let opened = open(&reply.body);
        let outcome = match &opened {
            Ok(reply) => Outcome::Success(reply.et_status()),
            Err(et_proto::Error::Api { code, .. }) => Outcome::Refused(code.as_str()),
            Err(_) => Outcome::Rejected,
        };
        measure::exchange(operation, outcome, started.elapsed());
        match &opened {
            Ok(reply) => {
                span.record("et_status", reply.et_status());
                crate::added_keys::note("reply", reply.added_keys());
                crate::rollover::note_et_key(reply.verified_by());
                tracing::info!(parent: &span, "ET call succeeded");
            }
            Err(e) => {
                if let et_proto::Error::Api { code, .. } = e {
                    span.record("et_status", code.as_str());
                }
                tracing::warn!(parent: &span, error = %e, "ET answer rejected");
            }
        }
        opened.map_err(|e| self.response_error(e, &reply.body))
    }
}

impl Client {
    /// The error for an answer that did not open: when it does not verify
    /// or decrypt under our profile, the settings it would (the search
    /// `et_proto::detect` runs, only on this failure path).
    fn response_error(&self, e: et_proto::Error, body: &[u8]) -> Error {
        let unverified = matches!(
            e,
            et_proto::Error::SignatureMismatch { .. }
                | et_proto::Error::Decryption { .. }
                | et_proto::Error::Api {
                    authenticated: false,
                    ..
                }
        );
        if unverified {
            let profile = self.merchant.profile();
            let credentials = self.merchant.credentials();
            let found = et_proto::detect::reply(
                profile,
                &credentials.merchant_key,
                &credentials.et_public_key,
                body,
            );
            if let Some(verifies_with) = found
                .map(|found| found.changed_from(profile))
                .ok()
                .filter(|changed| !changed.is_empty())
            {
                return Error::ProfileMismatch {
                    source: e,
                    verifies_with,
                };
            }
        }
        Error::Response(e)
    }
}

/// What decides whether an operation may be sent again: its effect, and
/// whether it is the order interface (which ET may deduplicate by
/// `merchant_order_id`).
#[derive(Clone, Copy, Debug)]
struct Resend {
    effect: Effect,
    creates_order: bool,
}

impl Resend {
    fn of(default: &ServerType, effect: Effect) -> Self {
        Resend {
            effect,
            creates_order: *default == CreateOrder::SERVER_TYPE,
        }
    }

    /// The operation a wire `server_type` names under `profile`; an unknown
    /// one is taken to create something.
    fn of_wire(profile: &Profile, wire: &str) -> Self {
        macro_rules! find {
            ($($(#[$doc:meta])* $method:ident: $op:ident => $output:ident,)*) => {
                [$((et_model::$op::SERVER_TYPE, et_model::$op::EFFECT)),*]
            };
        }
        et_model::for_each_operation!(find)
            .into_iter()
            .find(|(default, _)| profile.accepts_server_type(default, wire))
            .map_or(
                Resend {
                    effect: Effect::Creates,
                    creates_order: false,
                },
                |(default, effect)| Resend::of(&default, effect),
            )
    }

    /// Whether a fresh copy may follow ET's "serial number already used":
    /// the refused copy may itself be the second copy of our request (a
    /// proxy sent it twice and the first took effect), so only when a
    /// second copy cannot have a second effect — the operation changes
    /// nothing or sets the same state, or it is an order and the profile
    /// names ET's refusal of a second order with the same
    /// `merchant_order_id` (so the fresh copy is refused if the first
    /// took effect). An attachment or a refund is never sent again.
    fn on_reused_serial(self, profile: &Profile) -> bool {
        self.effect.is_repeatable()
            || (self.creates_order && profile.duplicate_order_code.is_some())
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

/// The metrics label of a request: its wire `server_type`.
fn request_operation(request: &BuiltRequest) -> &str {
    request.server_type.as_str()
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// ET's `status_code` of an opened answer, for the call's span, and the
/// keys ET added to it.
trait EtStatus {
    fn et_status(&self) -> &str;
    fn added_keys(&self) -> impl Iterator<Item = &str>;
    fn verified_by(&self) -> &VerifiedBy;
}

impl<T> EtStatus for Reply<T> {
    fn et_status(&self) -> &str {
        self.status_code.as_str()
    }
    fn added_keys(&self) -> impl Iterator<Item = &str> {
        self.extra.iter().map(|(key, _)| key)
    }
    fn verified_by(&self) -> &VerifiedBy {
        &self.verified_by
    }
}

impl EtStatus for UntypedReply {
    fn et_status(&self) -> &str {
        self.reply.et_status()
    }
    fn added_keys(&self) -> impl Iterator<Item = &str> {
        self.reply.added_keys()
    }
    fn verified_by(&self) -> &VerifiedBy {
        self.reply.verified_by()
    }
}
