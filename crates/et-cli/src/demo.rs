//! `et demo`: a whole order lifecycle, as a merchant would run it, against
//! a local sandbox on loopback.
//!
//! [`run`] starts a sandbox (temporary state directory, sped-up clock) and
//! an et-http webhook receiver, then plays a script: a table of typed
//! events (the lifecycle, or the jump run in `jump`), each one step. The
//! merchant acts through et-http's [`Client`], the student through a small
//! browser on ET's pages (opening them, submitting their forms), ET through
//! the sandbox's [`RunningSandbox`] methods; what a page shows is read from
//! the sandbox's typed [`OrderView`], never from the page's markup. The
//! demo waits (bounded) for each notification. Each step becomes a
//! [`Step`]; the run passes only if every step did: every response
//! verified, every notification arrived, verified and was acknowledged.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use et_http::{Client, Endpoint, WebhookReceiver};
use et_model::GetInstitutions;
use et_model::{
    ApplyRefund, AttachmentType, CountryCode, CreateOrder, CurrencyCode, GetPayUrl, Notification,
    OrderStatus, PayResult, QueryOrders, RefundResult, UploadAttachment,
};
use et_proto::{NotificationVerifier, VerifiedNotification};
use et_sandbox::{InitOptions, OrderView, Refusal, RunningSandbox, SandboxConfig, SandboxDir};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::merchant_dir;
use crate::web_client::{Page, WebClient};

mod jump;

/// The school both demo runs order for, looked up by its English name.
const SCHOOL: &str = "University of Edinburgh";
mod inbox;

/// How to run the demo.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// RSA key size of ET's and the merchant's keys.
    pub bits: usize,
    /// Sandbox clock speed-up.
    pub time_scale: f64,
    /// How long to wait for each notification.
    pub notify_timeout: Duration,
    /// The salt the webhook receiver verifies with; `None` (the default) is
    /// the sandbox merchant's. Another value shows what a misconfigured
    /// merchant sees: notifications refused, the run failing.
    pub receiver_salt: Option<String>,
    /// Run the third-party jump flow instead: the merchant hands the
    /// student to ET, the student places and pays the order there.
    pub jump: bool,
    /// Store every notification in an et-inbox SQLite inbox before
    /// acknowledging it, then reconcile and consume (`et demo --inbox`).
    pub inbox: bool,
    /// The merchant's key instead of a fresh one: a key file or a
    /// `pkcs11:` URI (`et demo --merchant-key`). The sandbox is given its
    /// public half; `bits` is then ET's key size only.
    pub merchant_key: Option<PathBuf>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            bits: 2048,
            time_scale: 3600.0,
            notify_timeout: Duration::from_secs(10),
            receiver_salt: None,
            jump: false,
            inbox: false,
            merchant_key: None,
        }
    }
}

/// One step of the demo and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What was done, e.g. `create order`.
    pub name: &'static str,
    /// `Ok(detail)` (e.g. the order id) or `Err(what failed)`.
    pub outcome: Result<String, String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl fmt::Display for Step {
    /// `✓ create order            ET2026…   12.3 ms`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mark, detail) = match &self.outcome {
            Ok(detail) => ('✓', detail.as_str()),
            Err(reason) => ('✗', reason.as_str()),
        };
        let ms = self.elapsed.as_secs_f64() * 1e3;
        write!(f, "{mark} {:<30} {detail:<64} {ms:>7.1} ms", self.name)
    }
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    /// Every step attempted, in order; the run stops at the first failure.
    pub steps: Vec<Step>,
    /// Notifications received, verified and acknowledged.
    pub notifications: usize,
    /// Wall time of the whole run.
    pub total: Duration,
}

impl DemoReport {
    /// Whether every step passed.
    pub fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.outcome.is_ok())
    }

    /// The first failed step, if any.
    pub fn failure(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.outcome.is_err())
    }
}

/// Runs the demo, calling `on_step` as each step finishes.
pub async fn run(options: &DemoOptions, on_step: impl FnMut(&Step) + Send) -> DemoReport {
    let started = Instant::now();
    let mut runner = Runner {
        steps: Vec::new(),
        on_step: Box::new(on_step),
    };
    let mut notifications = 0;
    if let Some(mut env) = setup(&mut runner, options).await {
        // `None` means a step failed; the runner has recorded which.
        if options.jump {
            play(&mut runner, &mut env, jump::SCRIPT).await;
        } else if play(&mut runner, &mut env, LIFECYCLE).await.is_some() {
            if let Some(store) = env.store.clone() {
                inbox::steps(&mut runner, &env, &store).await;
            }
        }
        notifications = env.inbox.received;
        env.shutdown().await;
    }
    DemoReport {
        steps: runner.steps,
        notifications,
        total: started.elapsed(),
    }
}

/// Records steps and stops the run at the first failure.
struct Runner<'a> {
    steps: Vec<Step>,
    on_step: Box<dyn FnMut(&Step) + Send + 'a>,
}

impl Runner<'_> {
    /// Runs one step: `Some(value)` if it passed.
    async fn step<T>(
        &mut self,
        name: &'static str,
        work: impl Future<Output = Result<(T, String), String>>,
    ) -> Option<T> {
        let started = Instant::now();
        let result = work.await;
        let (value, outcome) = match result {
            Ok((value, detail)) => (Some(value), Ok(detail)),
            Err(reason) => (None, Err(reason)),
        };
        let step = Step {
            name,
            outcome,
            elapsed: started.elapsed(),
        };
        (self.on_step)(&step);
        self.steps.push(step);
        value
    }
}

/// What the lifecycle runs against.
struct Env {
    _state: tempfile::TempDir,
    sandbox: RunningSandbox,
    client: Client,
    web: WebClient,
    inbox: Inbox,
    /// The et-inbox store, with `--inbox`.
    store: Option<inbox::DemoInbox>,
    receiver_url: String,
    stop_receiver: oneshot::Sender<()>,
    receiver: JoinHandle<()>,
}

impl Env {
    async fn shutdown(self) {
        let _ = self.stop_receiver.send(());
        let _ = self.receiver.await;
        self.sandbox.shutdown().await;
    }
}

async fn setup(r: &mut Runner<'_>, options: &DemoOptions) -> Option<Env> {
    let (bits, source) = (options.bits, options.merchant_key.clone());
    let (state, merchant_key) = r
        .step("create ET and merchant keys", async move {
            let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
            let init = InitOptions {
                bits,
                ..InitOptions::default()
            };
            let path = dir.path().to_owned();
            let (merchant, key) = tokio::task::spawn_blocking(move || {
                let merchant = SandboxDir::init(&path, &init).map_err(|e| e.to_string())?;
                let key = source.map(|source| merchant_dir::adopt_key(&path, &source));
                Ok::<_, String>((merchant, key.transpose().map_err(|e| e.to_string())?))
            })
            .await
            .map_err(|e| e.to_string())??;
            let mut detail = format!(
                "{} / {}, RSA-{bits}",
                merchant.merchant_number, merchant.sub_merchant_number
            );
            if let Some(key) = &key {
                detail = format!("{detail}, merchant's RSA-{} given", key.public_key().bits());
            }
            Ok(((dir, key), detail))
        })
        .await?;
    let config = SandboxConfig {
        listen: loopback(),
        time_scale: options.time_scale,
        ..SandboxConfig::new(state.path())
    };
    let (sandbox, client) = r
        .step("start sandbox", async {
            let sandbox = et_sandbox::start(config).await.map_err(|e| e.to_string())?;
            let client = merchant_client(state.path(), &sandbox.endpoint_url(), merchant_key)?;
            let detail = format!("{} (clock ×{})", sandbox.endpoint_url(), options.time_scale);
            Ok(((sandbox, client), detail))
        })
        .await?;
    let verifier = match &options.receiver_salt {
        Some(salt) => {
            NotificationVerifier::new(salt.as_str(), client.merchant().profile().notify_sign_rule)
        }
        None => client.merchant().notification_verifier(),
    };
    let store = if options.inbox {
        Some(
            r.step("open SQLite inbox", async { inbox::open(state.path()) })
                .await?,
        )
    } else {
        None
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let (receiver_url, stop_receiver, receiver) = r
        .step("start webhook receiver", async {
            let listener = TcpListener::bind(loopback())
                .await
                .map_err(|e| format!("bind: {e}"))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let stored = store.clone();
            let webhook = WebhookReceiver::new(verifier, move |n: VerifiedNotification| {
                let (tx, stored) = (tx.clone(), stored.clone());
                async move {
                    inbox::put(stored.as_ref(), &n).await?;
                    let arrival = (Instant::now(), n);
                    tx.send(arrival)
                        .map_err(|_| et_http::HandlerError::from("the demo stopped listening"))
                }
            });
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(et_http::serve(listener, webhook, async {
                let _ = stopped.await;
            }));
            let url = format!("http://{addr}/et/notify");
            Ok(((url.clone(), stop, task), url))
        })
        .await?;
    Some(Env {
        _state: state,
        sandbox,
        client,
        web: WebClient::new(),
        inbox: Inbox {
            rx,
            since: Instant::now(),
            backlog: Vec::new(),
            received: 0,
            timeout: options.notify_timeout,
        },
        store,
        receiver_url,
        stop_receiver,
        receiver,
    })
}

/// et-http's client for the merchant of the state directory (with
/// `merchant_key`, when given, as its key).
fn merchant_client(
    state: &std::path::Path,
    endpoint: &str,
    merchant_key: Option<et_crypto::SharedKey>,
) -> Result<Client, String> {
    let credentials = merchant_dir::credentials(state, merchant_key).map_err(|e| e.to_string())?;
    let endpoint = Endpoint::parse(endpoint).map_err(|e| e.to_string())?;
    let profile = et_sandbox::SandboxDir::new(state)
        .profile()
        .map_err(|e| e.to_string())?;
    Client::new(endpoint, credentials, profile).map_err(|e| e.to_string())
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// What the demo does, one step each: the scripts [`LIFECYCLE`] and
/// [`jump::SCRIPT`] list them in order, [`Event::perform`] does one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Find [`SCHOOL`]'s institution code, as a merchant does before ordering.
    LookUpInstitution,
    /// `create_order` for the institution, every notification to the receiver.
    CreateOrder,
    /// `upload_attachment`: the offer letter.
    UploadOfferLetter,
    /// `get_pay_url`: the checkout page's address.
    GetPayUrl,
    /// The student opens the checkout page.
    OpenCheckout,
    /// The student pays on the checkout page.
    Pay,
    /// The payment-success notification arrives, verified.
    PaymentNotification,
    /// The status-change notification to this status arrives, verified.
    Status(OrderStatus),
    /// ET acts on the order in the sandbox, then notifies the status change.
    Admin(AdminAction),
    /// The remittance-voucher notification arrives, verified.
    RemittanceVoucher,
    /// The voucher's address serves a PDF.
    DownloadVoucher,
    /// `query_orders` says the order has this status.
    QueryOrder(OrderStatus),
    /// `apply_refund`.
    ApplyRefund,
    /// ET decides the refund; its result notification arrives, verified.
    RefundResult,
    /// The sandbox's outbox says every notification was acknowledged at
    /// its first delivery.
    AllAcknowledged,
    /// `merchant_jump_place_order`: the student is handed over to ET.
    HandOver,
    /// The student opens the jump page.
    OpenJumpPage,
    /// The student fills in the rest and places the order.
    PlaceJumpOrder,
}

/// What ET does to an order in the sandbox (its admin actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AdminAction {
    /// ET starts remitting (1 → 2).
    Remit,
    /// ET has remitted (2 → 3); sends the remittance voucher.
    Receive,
    /// The recipient received the funds (3 → 4).
    Complete,
}

impl AdminAction {
    fn perform(self, sandbox: &RunningSandbox, order_id: &str) -> Result<OrderView, Refusal> {
        match self {
            AdminAction::Remit => sandbox.remit(order_id),
            AdminAction::Receive => sandbox.receive(order_id),
            AdminAction::Complete => sandbox.complete(order_id),
        }
    }

    /// The status the action moves the order to.
    fn status(self) -> OrderStatus {
        match self {
            AdminAction::Remit => OrderStatus::Remitting,
            AdminAction::Receive => OrderStatus::AwaitingReceipt,
            AdminAction::Complete => OrderStatus::Completed,
        }
    }
}

/// One order's whole life.
const LIFECYCLE: &[Event] = &[
    Event::LookUpInstitution,
    Event::CreateOrder,
    Event::UploadOfferLetter,
    Event::GetPayUrl,
    Event::OpenCheckout,
    Event::Pay,
    Event::PaymentNotification,
    Event::Status(OrderStatus::Paid),
    Event::Admin(AdminAction::Remit),
    Event::Admin(AdminAction::Receive),
    Event::RemittanceVoucher,
    Event::DownloadVoucher,
    Event::Admin(AdminAction::Complete),
    Event::QueryOrder(OrderStatus::Completed),
    Event::ApplyRefund,
    Event::Status(OrderStatus::Refunding),
    Event::RefundResult,
    Event::Status(OrderStatus::Refunded),
    Event::AllAcknowledged,
];

/// What the steps so far found out, for the steps after them.
#[derive(Debug, Default)]
struct Progress {
    institution_code: Option<String>,
    merchant_order_id: Option<String>,
    order_id: Option<String>,
    pay_url: Option<String>,
    /// The checkout page as the student's browser shows it.
    checkout: Option<Page>,
    jump_url: Option<String>,
    jump_page: Option<Page>,
    voucher_url: Option<String>,
}

/// A value an earlier step of the script provides.
fn earlier<'a, T>(value: &'a Option<T>, what: &str) -> Result<&'a T, String> {
    value
        .as_ref()
        .ok_or_else(|| format!("no earlier step found the {what}"))
}

impl Progress {
    fn order_id(&self) -> Result<&str, String> {
        earlier(&self.order_id, "order id").map(String::as_str)
    }
}

/// Runs `script` one event after another; `None` once a step failed.
async fn play(r: &mut Runner<'_>, env: &mut Env, script: &[Event]) -> Option<Progress> {
    let mut progress = Progress::default();
    for &event in script {
        let work = async { event.perform(env, &mut progress).await.map(|d| ((), d)) };
        r.step(event.name(), work).await?;
    }
    Some(progress)
}

impl Event {
    /// The step's name in the report.
    fn name(self) -> &'static str {
        match self {
            Event::LookUpInstitution => "look up institution",
            Event::CreateOrder => "create order",
            Event::UploadOfferLetter => "upload offer letter",
            Event::GetPayUrl => "get payment address",
            Event::OpenCheckout => "open checkout page",
            Event::Pay => "pay on checkout page",
            Event::PaymentNotification => "payment notification",
            Event::Status(status) => status_step(status),
            Event::Admin(action) => status_step(action.status()),
            Event::RemittanceVoucher => "remittance voucher",
            Event::DownloadVoucher => "download voucher PDF",
            Event::QueryOrder(_) => "query order",
            Event::ApplyRefund => "apply for refund",
            Event::RefundResult => "refund result",
            Event::AllAcknowledged => "all notifications acknowledged",
            Event::HandOver => "hand student over to ET",
            Event::OpenJumpPage => "open jump page",
            Event::PlaceJumpOrder => "student places order",
        }
    }

    /// Does the step: its detail for the report, or what failed.
    async fn perform(self, env: &mut Env, p: &mut Progress) -> Result<String, String> {
        match self {
            Event::LookUpInstitution => {
                let (code, detail) = find_institution(env, SCHOOL).await?;
                p.institution_code = Some(code);
                Ok(detail)
            }
            Event::CreateOrder => {
                let code = earlier(&p.institution_code, "institution code")?;
                let (order_id, detail) = create_order(env, code).await?;
                p.order_id = Some(order_id);
                Ok(detail)
            }
            Event::UploadOfferLetter => upload_offer_letter(env, p.order_id()?).await,
            Event::GetPayUrl => {
                let url = get_pay_url(env, p.order_id()?).await?;
                let detail = page_path(&url).to_owned();
                p.pay_url = Some(url);
                Ok(detail)
            }
            Event::OpenCheckout => {
                let url = earlier(&p.pay_url, "payment address")?;
                let page = env.web.get(url).await?;
                expect_ok(&page)?;
                let order = sandbox_order(env, p.order_id()?)?;
                let detail = format!(
                    "GET {} → {}, {}",
                    page_path(url),
                    page.status.as_u16(),
                    due(&order)
                );
                p.checkout = Some(page);
                Ok(detail)
            }
            Event::Pay => pay(env, p).await,
            Event::PaymentNotification => payment_notification(env, p.order_id()?).await,
            Event::Status(status) => env.inbox.status(p.order_id()?, status).await,
            Event::Admin(action) => {
                let order_id = p.order_id()?;
                env.inbox.mark();
                action
                    .perform(&env.sandbox, order_id)
                    .map_err(|e| format!("sandbox {action:?}: {e}"))?;
                env.inbox.status(order_id, action.status()).await
            }
            Event::RemittanceVoucher => {
                let (url, detail) = remittance_voucher(env, p.order_id()?).await?;
                p.voucher_url = Some(url);
                Ok(detail)
            }
            Event::DownloadVoucher => {
                download_voucher(env, earlier(&p.voucher_url, "voucher address")?).await
            }
            Event::QueryOrder(status) => query_order(env, p.order_id()?, status).await,
            Event::ApplyRefund => {
                env.inbox.mark();
                apply_refund(env, p.order_id()?).await
            }
            Event::RefundResult => refund_result(env, p.order_id()?).await,
            Event::AllAcknowledged => all_acknowledged(env, p.order_id()?).await,
            Event::HandOver => jump::hand_over(env, p).await,
            Event::OpenJumpPage => jump::open_page(env, p).await,
            Event::PlaceJumpOrder => jump::place_order(env, p).await,
        }
    }
}

/// The name of the step that waits for the change to `status`.
fn status_step(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Paid => "status → paid",
        OrderStatus::Remitting => "status → remitting",
        OrderStatus::AwaitingReceipt => "status → awaiting receipt",
        OrderStatus::Completed => "status → completed",
        OrderStatus::Refunding => "status → refunding",
        OrderStatus::Refunded => "status → refunded",
        _ => "status change",
    }
}

/// The order as the sandbox holds it: the typed source of what ET's pages
/// show (never scraped from their markup).
fn sandbox_order(env: &Env, order_id: &str) -> Result<OrderView, String> {
    env.sandbox
        .order(order_id)
        .map_err(|e| format!("sandbox: {e}"))?
        .ok_or_else(|| format!("the sandbox has no order {order_id}"))
}

/// What the checkout page asks the student to pay.
fn due(order: &OrderView) -> String {
    format!("RMB {} + {} fee due", order.tuition_rmb, order.counter_fee)
}

/// The student pays on the checkout page as a browser does (its form);
/// the sandbox then holds the order paid.
async fn pay(env: &mut Env, p: &Progress) -> Result<String, String> {
    let page = earlier(&p.checkout, "checkout page")?;
    env.inbox.mark();
    let paid = env.web.submit_first_form(page).await?;
    expect_ok(&paid)?;
    let order = sandbox_order(env, p.order_id()?)?;
    if order.status != OrderStatus::Paid {
        return Err(format!(
            "the order is in status {} ({}) after paying",
            order.status.code(),
            order.status
        ));
    }
    Ok(format!(
        "POST form → {}, order status {} ({})",
        paid.status.as_u16(),
        order.status.code(),
        order.status
    ))
}

/// The verified payment-success notification of `order_id`.
async fn payment_notification(env: &mut Env, order_id: &str) -> Result<String, String> {
    let (n, after) = env
        .inbox
        .wait(
            "payment success",
            |n| matches!(n, Notification::PaymentSuccess(p) if p.order_id == order_id),
        )
        .await?;
    match n.notification() {
        Notification::PaymentSuccess(p) if p.pay_result == PayResult::Succeeded => Ok(format!(
            "verified, pay_amount {}, {after}",
            p.pay_amount.as_str()
        )),
        _ => Err("payment notification says the payment failed".to_owned()),
    }
}

/// The verified remittance-voucher notification: the voucher's address.
async fn remittance_voucher(env: &mut Env, order_id: &str) -> Result<(String, String), String> {
    let (n, after) = env
        .inbox
        .wait(
            "remittance voucher",
            |n| matches!(n, Notification::RemittanceVoucher(v) if v.order_id == order_id),
        )
        .await?;
    match n.notification() {
        Notification::RemittanceVoucher(v) => Ok((
            v.remittance_voucher_url.clone(),
            format!(
                "verified, {}, {after}",
                page_path(&v.remittance_voucher_url)
            ),
        )),
        _ => Err("not a voucher".to_owned()),
    }
}

async fn download_voucher(env: &Env, url: &str) -> Result<String, String> {
    let pdf = env.web.get(url).await?;
    expect_ok(&pdf)?;
    if !pdf.body.starts_with(b"%PDF") {
        return Err(format!(
            "{} bytes that do not start with %PDF",
            pdf.body.len()
        ));
    }
    Ok(format!("{} bytes, %PDF", pdf.body.len()))
}

/// ET decides the refund (granted); its verified result notification.
async fn refund_result(env: &mut Env, order_id: &str) -> Result<String, String> {
    env.inbox.mark();
    env.sandbox
        .refund_result(order_id, true)
        .map_err(|e| format!("sandbox refund-result: {e}"))?;
    let (n, after) = env
        .inbox
        .wait(
            "refund result",
            |n| matches!(n, Notification::RefundResult(x) if x.order_id == order_id),
        )
        .await?;
    match n.notification() {
        Notification::RefundResult(x) if x.refund_result == RefundResult::Succeeded => Ok(format!(
            "verified, refund_amount {}, {after}",
            x.refund_amount.as_str()
        )),
        _ => Err("refund result says the refund failed".to_owned()),
    }
}

/// The institution code of `name`, as a merchant finds it before ordering.
async fn find_institution(env: &Env, name: &str) -> Result<(String, String), String> {
    let reply = env
        .client
        .get_institutions(&GetInstitutions::new(name))
        .await
        .map_err(|e| e.to_string())?;
    let found = reply
        .items
        .iter()
        .find(|i| i.institution_name_en.as_deref() == Some(name))
        .ok_or_else(|| format!("{name:?} is not among the {} found", reply.items.len()))?;
    let code = found.institution_code.to_string();
    // The Chinese name would be wider than its character count and shift the column.
    let detail = format!("{name} → {code}");
    Ok((code, detail))
}

async fn create_order(env: &Env, institution_code: &str) -> Result<(String, String), String> {
    let mut order = CreateOrder::new(
        format!("DEMO-{}", std::process::id()),
        "student-42",
        CountryCode::Gbr,
        CurrencyCode::new("GBP"),
        "10000.00".parse().map_err(|e| format!("amount: {e}"))?,
    );
    order.institution_code = Some(institution_code.to_owned());
    order.school_name = Some(SCHOOL.to_owned());
    order.student_email = Some("student@example.com".to_owned());
    order.notify_url = Some(env.receiver_url.clone());
    order.status_change_notify_url = Some(env.receiver_url.clone());
    let reply = env
        .client
        .create_order(&order)
        .await
        .map_err(|e| e.to_string())?;
    let created = reply
        .items
        .into_iter()
        .next()
        .ok_or("the reply holds no order")?;
    let rmb = created
        .tuition_rmb
        .as_ref()
        .map_or("?", |a| a.as_str())
        .to_owned();
    Ok((
        created.order_id.clone(),
        format!("{}, GBP 10000.00 = RMB {rmb}", created.order_id),
    ))
}

async fn upload_offer_letter(env: &Env, order_id: &str) -> Result<String, String> {
    const OFFER_LETTER: &[u8] = b"%PDF-1.4\n% offer letter of student-42\n%%EOF\n";
    let upload = UploadAttachment {
        order_id: order_id.to_owned(),
        attachment_type: AttachmentType::OfferLetter,
        base64: et_crypto::b64_encode(OFFER_LETTER),
        file_name: "offer-letter.pdf".to_owned(),
        extra: Default::default(),
    };
    env.client
        .upload_attachment(&upload)
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!("offer-letter.pdf, {} bytes", OFFER_LETTER.len()))
}

async fn get_pay_url(env: &Env, order_id: &str) -> Result<String, String> {
    let mut op = GetPayUrl::new(order_id);
    op.notify_url = Some(env.receiver_url.clone());
    let reply = env
        .client
        .get_pay_url(&op)
        .await
        .map_err(|e| e.to_string())?;
    reply
        .items
        .iter()
        .flat_map(|p| &p.pay_config_list)
        .map(|c| c.pay_url.clone())
        .next()
        .ok_or_else(|| "the reply holds no pay_url".to_owned())
}

async fn query_order(env: &Env, order_id: &str, expected: OrderStatus) -> Result<String, String> {
    let reply = env
        .client
        .query_orders(&QueryOrders::new([order_id]))
        .await
        .map_err(|e| e.to_string())?;
    let order = reply
        .items
        .iter()
        .find(|o| o.order_id == order_id)
        .ok_or("the order is not in the reply")?;
    if order.order_status != expected {
        return Err(format!(
            "status {} ({}), expected {expected}",
            order.order_status.code(),
            order.order_status
        ));
    }
    Ok(format!(
        "status {} ({}), decrypted",
        order.order_status.code(),
        order.order_status
    ))
}

async fn apply_refund(env: &Env, order_id: &str) -> Result<String, String> {
    let refund = ApplyRefund {
        order_id: order_id.to_owned(),
        refund_order_id: format!("REFUND-{order_id}"),
        refund_amount: None,
        refund_reason: Some("visa refused".to_owned()),
        extra: Default::default(),
    };
    env.client
        .apply_refund(&refund)
        .await
        .map_err(|e| e.to_string())?;
    Ok(refund.refund_order_id)
}

/// Every notification of the order acknowledged at its first delivery,
/// per the sandbox's outbox. The acknowledgement reaches the sandbox just
/// after the handler saw the event, so this polls (bounded).
async fn all_acknowledged(env: &Env, order_id: &str) -> Result<String, String> {
    let deadline = Instant::now() + env.inbox.timeout;
    loop {
        let outbox = env
            .sandbox
            .notifications(Some(order_id))
            .map_err(|e| e.to_string())?;
        let waiting: Vec<_> = outbox
            .iter()
            .filter(|n| !n.delivered)
            .map(|n| n.kind.as_str())
            .collect();
        if waiting.is_empty() {
            if let Some(n) = outbox.iter().find(|n| n.attempts > 1) {
                return Err(format!(
                    "{} needed {} deliveries (last error: {})",
                    n.kind, n.attempts, n.last_error
                ));
            }
            return Ok(format!(
                "{} sent, {} received, each at first delivery",
                outbox.len(),
                env.inbox.received
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!("not acknowledged: {}", waiting.join(", ")));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Verified notifications as the receiver's handler hands them over,
/// stamped with their arrival.
struct Inbox {
    rx: mpsc::UnboundedReceiver<(Instant, VerifiedNotification)>,
    /// When the action that should cause the next notifications began.
    since: Instant,
    /// Arrived but not yet asked for (the order of deliveries is not fixed).
    backlog: Vec<(Instant, VerifiedNotification)>,
    received: usize,
    timeout: Duration,
}

impl Inbox {
    /// Notes that an action that makes ET notify starts now.
    fn mark(&mut self) {
        self.since = Instant::now();
    }

    /// The first notification matching `wanted`, waiting at most the
    /// timeout, and `+N ms` from the last [`mark`](Self::mark) to its arrival.
    async fn wait(
        &mut self,
        what: &str,
        wanted: impl Fn(&Notification) -> bool,
    ) -> Result<(VerifiedNotification, String), String> {
        let found = match self
            .backlog
            .iter()
            .position(|(_, n)| wanted(n.notification()))
        {
            Some(i) => self.backlog.remove(i),
            None => self.receive(what, wanted).await?,
        };
        let (at, n) = found;
        let after = at.saturating_duration_since(self.since).as_secs_f64() * 1e3;
        Ok((n, format!("arrived +{after:.1} ms")))
    }

    async fn receive(
        &mut self,
        what: &str,
        wanted: impl Fn(&Notification) -> bool,
    ) -> Result<(Instant, VerifiedNotification), String> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(arrival)) => {
                    self.received += 1;
                    if wanted(arrival.1.notification()) {
                        return Ok(arrival);
                    }
                    self.backlog.push(arrival);
                }
                Ok(None) => {
                    return Err(format!(
                        "the receiver stopped before the {what} notification"
                    ))
                }
                Err(_) => return Err(format!("no {what} notification within {:?}", self.timeout)),
            }
        }
    }

    /// Waits for the status change of `order_id` to `status`.
    async fn status(&mut self, order_id: &str, status: OrderStatus) -> Result<String, String> {
        let what = format!("status {} change", status.code());
        let (_, after) = self
            .wait(&what, |n| {
                matches!(n, Notification::OrderStatusChange(c) if c.order_id == order_id && c.order_status == status)
            })
            .await?;
        Ok(format!("{} ({status}) verified, {after}", status.code()))
    }
}

fn expect_ok(page: &crate::web_client::Page) -> Result<(), String> {
    if page.status.is_success() {
        Ok(())
    } else {
        Err(format!(
            "{} answered {}: {}",
            page.url,
            page.status,
            page.text().chars().take(120).collect::<String>()
        ))
    }
}

/// The path of a URL (for short step lines).
fn page_path(url: &str) -> &str {
    url.split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or(url)
}

/// `et demo`: run, print each step as it finishes, then a summary line.
pub(crate) async fn command(args: &crate::cli::DemoArgs) -> crate::CliResult {
    let options = DemoOptions {
        bits: args.bits as usize,
        time_scale: args.time_scale,
        notify_timeout: Duration::from_secs(args.timeout),
        receiver_salt: None,
        jump: args.jump,
        inbox: args.inbox,
        merchant_key: args.merchant_key.clone(),
    };
    crate::output::line(if options.jump {
        "et demo: an order the student places at ET (third-party jump), against a local ET sandbox"
    } else {
        "et demo: one order's whole life against a local ET sandbox"
    })?;
    let mut unprinted = None;
    let report = run(&options, |step| {
        if let Err(e) = crate::output::line(step) {
            unprinted.get_or_insert(e);
        }
    })
    .await;
    if let Some(e) = unprinted {
        return Err(e);
    }
    let total_ms = report.total.as_secs_f64() * 1e3;
    match report.failure() {
        None => crate::output::line(format_args!(
            "passed: {} steps, every response verified, {} notifications verified and acknowledged, {total_ms:.0} ms",
            report.steps.len(),
            report.notifications,
        )),
        Some(step) => Err(crate::Failure::rejected(format!(
            "demo failed at {:?}: {}",
            step.name,
            step.outcome.as_ref().err().map_or("", String::as_str)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &'static str, outcome: Result<&str, &str>) -> Step {
        Step {
            name,
            outcome: outcome.map(str::to_owned).map_err(str::to_owned),
            elapsed: Duration::from_micros(12_345),
        }
    }

    #[test]
    fn a_step_is_one_line_with_mark_and_timing() {
        let line = step("create order", Ok("ET20260101000000001")).to_string();
        assert!(line.starts_with("✓ create order "), "{line}");
        assert!(
            line.contains("ET20260101000000001") && line.ends_with("12.3 ms"),
            "{line}"
        );
        assert!(step("pay", Err("no answer"))
            .to_string()
            .starts_with("✗ pay "));
    }

    #[test]
    fn a_report_passes_only_when_every_step_did() {
        let mut report = DemoReport {
            steps: vec![],
            notifications: 0,
            total: Duration::ZERO,
        };
        assert!(!report.passed(), "nothing ran");
        report.steps.push(step("a", Ok("")));
        assert!(report.passed());
        report.steps.push(step("b", Err("timeout")));
        assert!(!report.passed());
        assert_eq!(report.failure().map(|s| s.name), Some("b"));
    }

    #[test]
    fn paths_of_urls() {
        assert_eq!(page_path("http://127.0.0.1:1/pay/ET1"), "/pay/ET1");
        assert_eq!(page_path("nonsense"), "nonsense");
    }
}
