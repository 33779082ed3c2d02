//! How a sandbox behaves, in full: its state directory, routes and who may
//! use them, status codes, operations, notifications, the profile it plays,
//! failures on demand, resource bounds and the files that hold secrets. (This
//! module holds documentation only.)
//!
//! # The state directory
//!
//! [`SandboxDir::init`](crate::SandboxDir::init) writes `et-private.pem`, `et-public.pem`,
//! `merchant-private.pem`, `merchant-public.pem` (PKCS#8 / SPKI PEM),
//! `merchant.json` (`merchant_number`, `sub_merchant_number`, `salt`),
//! `profile.json` (see [Playing a profile](#playing-a-profile)) and
//! `sandbox.json` (the [`RateTable`](crate::RateTable): RMB per unit of each currency and the
//! counter fee; and `institutions`, the [`InstitutionDirectory`](crate::InstitutionDirectory): several
//! dozen real universities and student-residence operators with codes of
//! the sandbox's own, English and Chinese names, country and type — `1`
//! for schools, [`RESIDENCE`](crate::RESIDENCE) `2` for residences — edit it freely). [`start`](crate::start) adds `sandbox.db`, which holds the
//! merchants, orders, attachments (Base64 as received), serial numbers seen
//! per merchant, the notification outbox and its delivery attempts, each
//! order's status history and creating request, the request log and the
//! sandbox clock, so a restart loses nothing. Its schema carries a version (`PRAGMA user_version`); an
//! older database is migrated in place when the sandbox starts, and one
//! written by a newer sandbox is refused with [`Error::SchemaVersion`](crate::Error::SchemaVersion). While a sandbox runs it holds an exclusive advisory lock
//! on `sandbox.lock` ([`LOCK_FILE`](crate::LOCK_FILE): 0600, never opened through a symbolic
//! link); a second sandbox on the same directory
//! fails to start with [`Error::Locked`](crate::Error::Locked) (two would deliver every
//! notification twice).
//!
//! # Routes
//!
//! | route | what |
//! |---|---|
//! | `POST /server` | ET's API, every operation by `server_type` |
//! | `GET /` | the dashboard: orders, newest first, [`PAGE_SIZE`](crate::PAGE_SIZE) a page (`?status=N` filters, `?before=SEQ` pages) |
//! | `GET /orders/{order_id}` | one order: status timeline, the creating request decrypted, attachments, notifications, ET's buttons, the [fault rules](crate::faults) and magic values that apply to it and buttons adding one for it |
//! | `GET /notifications` | every notification with its delivery attempts (time, URL, HTTP status, the reply's first bytes, latency, next retry; the last [`ATTEMPTS_SHOWN`](crate::ATTEMPTS_SHOWN)), newest first, paged (`?before=ID`) |
//! | `GET /requests` | the request log: the last [`REQUEST_LOG_ROWS`](crate::REQUEST_LOG_ROWS) envelopes received, verified or why not, answer, latency; paged |
//! | `GET /requests/{n}` | one logged envelope, its payload decrypted (or as received, if it did not open, with the sign string the sandbox computed, the hash, rule and key it used, and the settings that would verify it) |
//! | `GET /faults` | every fault rule, a form for any rule, and the [magic values](crate::faults#magic-values) table |
//! | `GET /attachments/{id}` | an uploaded attachment, as a download (`application/octet-stream`) |
//! | `GET /static/dashboard.{js,css}` | the dashboard's one script and style sheet |
//! | `GET /pay/{order_id}` | checkout page: order, amount in RMB, a choice of [`PAY_METHODS`](crate::PAY_METHODS), Pay and Decline buttons (an HTML form, no JavaScript) |
//! | `POST /pay/{order_id}` | `action=pay` pays: status 0 → 1, payment and status notifications; `action=decline` declines: status stays 0, a payment notification with `pay_result` 0; the form must carry the page's `token` (else 403 and the page again) |
//! | `GET /jump/{token}` | a jump's page: what the merchant sent and a form for the rest, the institution chosen from the directory and the currency from the rate table (an order placed already: 303 to its checkout page) |
//! | `POST /jump/{token}` | places the order from the form (≤ 16 KiB) and answers 303 to its checkout page, or the form again with what was wrong (422) |
//! | `GET /vouchers/{order_id}.pdf` | remittance voucher, once remitted (status 3 or 4) |
//! | `GET, POST /admin/…` | the admin actions: [`AdminAction`](crate::AdminAction) names each, its route and its answer |
//!
//! Admin `POST`s must say `Content-Type: application/json` (the body is
//! ignored but for a fault rule's; else 415): a cross-site HTML form on any page the developer's
//! browser opens cannot send that, and a cross-site script cannot without a
//! CORS preflight the sandbox never grants. `et sandbox admin` sends it.
//!
//! A sandbox listens on loopback only ([`Exposure::Loopback`](crate::Exposure::Loopback), the
//! default; any other address is refused with [`Error::NotLoopback`](crate::Error::NotLoopback)).
//! Every route but ET's API, checkout, jump and voucher routes (and the
//! dashboard's static assets) answers `403` unless `Host` names loopback
//! (a loopback address, `localhost` or a `*.localhost` name): a
//! DNS-rebinding page on another domain is same-origin with the sandbox,
//! but names its own domain there. The check is the default, so a route
//! added later is covered too. Exposed on purpose ([`Exposure::Network`](crate::Exposure::Network),
//! `et sandbox serve --expose`), the sandbox takes any address in `Host`
//! but no domain, and those routes also require its secret
//! ([`RunningSandbox::secret`](crate::RunningSandbox::secret), made at each start): `Authorization: Bearer
//! SECRET`, or the cookie that opening [`RunningSandbox::dashboard_url`](crate::RunningSandbox::dashboard_url)
//! (`/?secret=SECRET`) sets once (`HttpOnly`, `SameSite=Strict`); else
//! `401`.
//!
//! No `POST` but the API's answers a browser's cross-site request (`403`):
//! `Sec-Fetch-Site` must be `same-origin` or `none`, and `Origin`, when
//! sent, this sandbox as `Host` names it. Pages send `Referrer-Policy:
//! same-origin`, under which a browser names the page's origin in its own
//! form posts.
//!
//! The dashboard's buttons send exactly these JSON `POST`s from a few
//! lines of same-origin script. Every page, ET's checkout and jump pages
//! included, is server-rendered (maud templates, every value escaped)
//! and sent by one responder with `nosniff`, `no-store`,
//! `Referrer-Policy: same-origin` and a Content-Security-Policy that runs
//! only the sandbox's own script and forbids framing; lists are keyset-paged and an
//! order page shows at most [`ORDER_PAGE_ROWS`](crate::ORDER_PAGE_ROWS) of each kind of row, so no
//! request makes the sandbox do unbounded work. The request log keeps
//! each payload up to [`MAX_LOGGED_PAYLOAD`](crate::MAX_LOGGED_PAYLOAD) bytes. Decrypted payloads
//! are the merchant's own test data; no page shows a private key, an AES
//! key or the notification salt.
//!
//! [`RunningSandbox::act`](crate::RunningSandbox::act) carries out any [`AdminAction`](crate::AdminAction) in-process, as its
//! route does; the common ones are also methods of [`RunningSandbox`](crate::RunningSandbox). [`AdminAction`](crate::AdminAction)
//! is the one list of them.
//!
//! # Status codes
//!
//! ET documents only `000000` and `200003`; the sandbox keeps both and
//! defines the rest: the table is [`SandboxCode`](crate::SandboxCode).
//!
//! A body that is not a JSON object at all (not an envelope) is refused
//! `100001` **unsigned**: `{"status_code":"100001","message":…}` with no
//! `sign`, so refusing garbage costs no RSA signature. et-proto reads it as
//! `Error::Api { authenticated: false }`, as it reads any unsigned refusal:
//! a merchant must not act on it as ET's word. Every other refusal is
//! signed.
//!
//! A body that names no known merchant cannot be encrypted to anyone; like
//! every refusal it is answered with ET's signature and empty `aeskey` and
//! `sensitive_data`.
//!
//! # Operations
//!
//! Create order (`create_order` and `add_special_rent_order`; `tuition_rmb`
//! = the amount × rate, the amount spelled `tuituon` or `tuition`;
//! `counter_fee` from the table, one `pay_config_list` entry pointing at
//! the checkout page), upload attachment (at most 5 per
//! type per order), payment address (status 0 only, else `200003`; its
//! `notify_url` receives the payment notification), batch order query
//! (results in the encrypted `sensitive_data`), exchange rate, estimated
//! amount, and refund application (status 1–4 → -3; the outcome is an admin
//! action).
//!
//! Institutions (`get_institutions`): the directory searched by
//! `search_key` (case-insensitive, in the code, the English or the Chinese
//! name) and `institution_type` (absent: every type), in code order;
//! `count` 0 returns [`DEFAULT_PAGE`](crate::DEFAULT_PAGE) entries, and no answer holds more than
//! [`MAX_PAGE`](crate::MAX_PAGE). An order's `institution_code` must be in the directory
//! (else `200007`); the order then carries the directory's names (its
//! checkout page shows them, [`RunningSandbox::order_institution`](crate::RunningSandbox::order_institution)).
//!
//! Third-party jump ordering (`merchant_jump_place_order`): answers with a
//! `jump_url`, `/jump/{token}` (32 random alphanumerics; the same address
//! again for a retry with the same `merchant_order_id`). The student sees
//! there what the merchant sent, fills in institution or country,
//! currency, and the amount and names if the merchant gave none, and places
//! the order, created exactly as `create_order` creates one; its every
//! notification goes to the jump's `status_change_notify_url`. A jump
//! places at most one order.
//!
//! # Notifications
//!
//! Bodies from et-model's typed notifications, signed and encoded as the
//! sandbox's profile says (et-proto's `EtSide::notification_body`; by
//! default JSON signed with the v2 rule).
//! Payment success (and a declined payment's `pay_result` 0) goes to the
//! payment address's `notify_url`, else the order's `notify_url`; status
//! changes, refund results and the remittance
//! voucher go to the order's `status_change_notify_url`, else `notify_url`.
//! Each is tried at once and again after 1, 5, 10, 30, 60 and 120 minutes of
//! sandbox time (7 attempts), until the reply is `{"notify_result":"OK"}`
//! — for a refund result, with the notification's `order_id` and a `sign`
//! by the same MD5 rule (spec 04 §4.4), as et-proto's receivers answer;
//! a bare OK to a refund result is a failed attempt
//! ([`DeliveryFailure::BadRefundReply`](crate::DeliveryFailure::BadRefundReply), the reason in `last_error`).
//! Deliveries run concurrently, each attempt within 10 s: at most
//! [`MAX_DELIVERIES`](crate::MAX_DELIVERIES) (32) in flight, at most [`MAX_DELIVERIES_PER_ENDPOINT`](crate::MAX_DELIVERIES_PER_ENDPOINT)
//! (4) to one endpoint (scheme, host and port). Due notifications are read
//! taking turns per endpoint (each endpoint's oldest first, then each
//! one's next), so however many wait for one endpoint, another's start in
//! the same round while a slot is free: an endpoint that hangs holds at
//! most 4 slots and delays only its own notifications, unless 8 or more
//! hang at once and hold all 32, and then another's waits at most until a
//! slot frees (10 s). One order's notifications go one at a time, oldest
//! first.
//! Every delivery carries the header [`DELIVERY_HEADER`](crate::DELIVERY_HEADER)
//! (`et-sandbox-delivery: ID`, the notification's id), and every sandbox
//! refuses any request that carries it (`403`, on every route): a
//! `notify_url` that names a sandbox, this one or another, by any host
//! name, address or redirect, acts on nothing there. Deliveries follow no
//! redirect.
//! Unpaid orders close after 7 days of sandbox time.
//!
//! Every attempt is recorded: when, where, the HTTP status (or why no
//! reply came, a [`DeliveryFailure`](crate::DeliveryFailure)), the first [`REPLY_HEAD_BYTES`](crate::REPLY_HEAD_BYTES) (512)
//! bytes of the reply, the latency and when the next attempt is due
//! ([`RunningSandbox::delivery_attempts`](crate::RunningSandbox::delivery_attempts) per order,
//! [`RunningSandbox::notification_attempts`](crate::RunningSandbox::notification_attempts) per notification).
//!
//! # Playing a profile
//!
//! The sandbox plays the et-proto `Profile` in `profile.json` (an et-proto
//! profile file; [`InitOptions::profile`](crate::InitOptions::profile) at `init`,
//! [`SandboxDir::set_profile`](crate::SandboxDir::set_profile) to change it, `et sandbox init|serve
//! --profile FILE`): it verifies requests and signs replies with its
//! `sign_hash` and `sign_rule`, decrypts `aeskey` with its `key_padding`,
//! seals replies by its `empty_sensitive`, writes `version` into replies
//! unless `response_version` is off, adds each of its
//! `extra_response_keys` (say `trace_id`) to every reply with a fresh
//! random value, signs notifications with the v1 printed form under
//! `notify_sign_rule` `v1-compat`, posts them form-encoded under
//! `notify_encoding` `form`, and accepts the order's amount under both
//! spellings whatever `tuition_spelling` says (it names the amount as that
//! setting spells it). A directory without `profile.json` plays the
//! default profile. [`SandboxDir::profile`](crate::SandboxDir::profile) reads it with the sandbox's
//! own codes named ([`SandboxCode::named_in`](crate::SandboxCode::named_in)): the profile a merchant
//! talking to this sandbox speaks, as `et call --dir` and `et demo` do.
//!
//! # Failures on demand
//!
//! A merchant's integration has to survive what ET and the network do on
//! bad days, so the sandbox plays them on request ([`faults`](crate::faults)): added
//! latency; HTTP 500 or 502, a timeout (the connection held, then closed) or
//! a reset connection, each before the request is carried out or after (the
//! order exists and its answer is lost); any `status_code` and message,
//! signed by ET; and notifications delayed, duplicated, out of order, badly
//! signed or dropped for their first attempts. A [`FaultRule`](crate::FaultRule) says which
//! failure and where: a merchant, an order, or the next N requests. Rules
//! come from `sandbox.json`, the admin API and [`RunningSandbox::add_fault`](crate::RunningSandbox::add_fault):
//!
//! ```json
//! {
//!   "rates": {"GBP": "9.2000"},
//!   "counter_fee": "50.00",
//!   "faults": [
//!     {"scope": {"merchant_number": "ET82009"}, "fault": {"kind": "latency", "ms": 300}},
//!     {"scope": {"next": 1}, "fault": {"kind": "reset", "at": "after_commit"}}
//!   ]
//! }
//! ```
//!
//! A merchant's own test suite needs no admin call: these magic values in
//! the order it creates ask for a failure (like Stripe's test cards):
//!
#![doc = include_str!("magic-values.md")]
//!
//! Every wait is bounded ([`faults::MAX_LATENCY`](crate::faults::MAX_LATENCY), [`faults::MAX_HOLD`](crate::faults::MAX_HOLD)), a
//! held connection counts against the connection cap, and a plan holds at
//! most [`faults::MAX_FAULT_RULES`](crate::faults::MAX_FAULT_RULES) rules.
//!
//! # Resource bounds
//!
//! Whatever a client sends, the sandbox holds bounded connections, memory
//! and time ([`Limits`](crate::Limits), set with [`start_with`](crate::start_with); defaults in
//! parentheses). It runs on et-http's serve loop, the one the webhook
//! receiver uses: at most `max_connections` (512) connections (more wait in
//! the listen backlog), a silent connection closed after the idle timeout
//! (10 s), request headers complete within the header timeout (10 s). A
//! body must arrive within `body_read_timeout` (30 s; else 408), be at most
//! [`MAX_BODY`](crate::MAX_BODY) (20 MiB; else 413) and fit in `body_budget` (96 MiB), the
//! memory all requests in flight hold together, each body byte costing
//! [`WORK_FACTOR`](crate::WORK_FACTOR) (4) bytes for the body and the copies made while it is
//! handled (else 503; a declared `Content-Length` that cannot fit is
//! refused before the body is read). `POST /server` takes
//! `Content-Type: application/json` or none (ET's demo sends none; else
//! 415), and no `POST` answers a browser's cross-site request (403); both
//! are refused from the head, unread. Requests with bodies of a MiB or
//! more are handled one at a time on a thread of their own, so glibc's
//! per-thread arenas do not each keep one's peak (`cargo xtask
//! sandbox-memory` prints the peak RSS under three 18.7 MB envelopes at a
//! time). Malformed
//! framing, e.g. bad chunking, is 400. `HEAD` answers as `GET` without
//! the body; a route asked with a method it does not take is 405 with
//! `Allow` (e.g. `Allow: POST` on `/server`), an unknown path 404. Request handlers (RSA, SQLite) and
//! the notification loop's database work run on tokio's blocking pool, never
//! on the threads that drive connections; at most `api_concurrency` (4 per
//! core) `POST /server` requests at once, the rest waiting in arrival order,
//! so CPU-bound RSA cannot starve those threads.
//!
//! # Files that hold secrets
//!
//! The state directory is created 0700; private keys, `merchant.json`,
//! `profile.json` and `sandbox.db` (with its `-wal`/`-shm`) are 0600
//! whatever the umask. Every file is written through
//! [`files::write_atomically`](crate::files::write_atomically) and nothing existing is replaced, but
//! `profile.json` when [`SandboxDir::set_profile`](crate::SandboxDir::set_profile) is asked to.
