//! What the demo runs against: a sandbox on a temporary state directory,
//! the merchant's client, and a webhook receiver; each started as a step.

use std::net::SocketAddr;
use std::time::Instant;

use et_http::{Client, Endpoint, WebhookReceiver};
use et_proto::{NotificationVerifier, VerifiedNotification};
use et_sandbox::{InitOptions, RunningSandbox, SandboxConfig, SandboxDir, SandboxMerchant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::arrivals::Arrivals;
use super::inbox::{self, DemoInbox};
use super::report::StepError;
use super::runner::Runner;
use super::DemoOptions;
use crate::merchant_dir;
use crate::web_client::WebClient;

/// What the lifecycle runs against.
pub(super) struct Env {
    _state: tempfile::TempDir,
    pub(super) sandbox: RunningSandbox,
    pub(super) client: Client,
    pub(super) web: WebClient,
    /// Notifications as the receiver hands them over.
    pub(super) arrivals: Arrivals,
    /// The et-inbox store, with `--inbox`.
    pub(super) store: Option<DemoInbox>,
    pub(super) receiver_url: String,
    stop_receiver: oneshot::Sender<()>,
    receiver: JoinHandle<()>,
}

impl Env {
    pub(super) async fn shutdown(self) {
        let _ = self.stop_receiver.send(());
        let _ = self.receiver.await;
        self.sandbox.shutdown().await;
    }
}

/// Starts everything, one step each; `None` once a step failed.
pub(super) async fn setup(r: &mut Runner<'_>, options: &DemoOptions) -> Option<Env> {
    let (bits, source) = (options.bits, options.merchant_key.clone());
    let (state, merchant_key) = r
        .step("create ET and merchant keys", async move {
            let dir = tempfile::tempdir().map_err(|source| StepError::Io {
                what: "temporary directory",
                source,
            })?;
            let init = InitOptions {
                bits,
                ..InitOptions::default()
            };
            let path = dir.path().to_owned();
            let (merchant, key) = tokio::task::spawn_blocking(move || {
                let merchant = SandboxDir::init(&path, &init)?;
                let key = source.map(|source| merchant_dir::adopt_key(&path, &source));
                let key = key.transpose().map_err(|e| StepError::Merchant(e.into()))?;
                Ok::<_, StepError>((merchant, key))
            })
            .await??;
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
        tls: options.tls,
        ..SandboxConfig::new(state.path())
    };
    let (sandbox, client, web) = r
        .step("start sandbox", async {
            let sandbox = et_sandbox::start(config).await?;
            let root = sandbox.tls_certificate_pem();
            let client =
                merchant_client(state.path(), &sandbox.endpoint_url(), root, merchant_key)?;
            let detail = format!("{} (clock ×{})", sandbox.endpoint_url(), options.time_scale);
            let web = WebClient::new(root)?;
            Ok(((sandbox, client, web), detail))
        })
        .await?;
    let verifier = match &options.receiver_salt {
        Some(salt) => {
            NotificationVerifier::new(salt.as_str(), client.merchant().profile().notify_sign_rule)
        }
        None => client.merchant().notification_verifier(),
    };
    let store = match options.inbox {
        true => Some(
            r.step("open SQLite inbox", async { inbox::open(state.path()) })
                .await?,
        ),
        false => None,
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let (receiver_url, stop_receiver, receiver) = r
        .step("start webhook receiver", async {
            let io = |what| move |source| StepError::Io { what, source };
            let listener = TcpListener::bind(loopback()).await.map_err(io("bind"))?;
            let addr = listener.local_addr().map_err(io("local address"))?;
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
        web,
        arrivals: Arrivals::new(rx, options.notify_timeout),
        store,
        receiver_url,
        stop_receiver,
        receiver,
    })
}

/// et-http's client for the merchant of the state directory (with
/// `merchant_key`, when given, as its key), trusting `root` (the sandbox's
/// `--tls` certificate) besides web PKI's roots.
fn merchant_client(
    state: &std::path::Path,
    endpoint: &str,
    root: Option<&str>,
    merchant_key: Option<et_crypto::SharedKey>,
) -> Result<Client, StepError> {
    let merchant = |e: Box<dyn std::error::Error + Send + Sync>| StepError::Merchant(e);
    let SandboxMerchant {
        credentials,
        profile,
        ..
    } = match merchant_key {
        Some(key) => SandboxMerchant::load_with_key(state, key),
        None => SandboxMerchant::load(state),
    }?;
    let endpoint = Endpoint::parse(endpoint).map_err(|e| merchant(e.into()))?;
    let mut transport = et_http::TransportConfig::default();
    if let Some(root) = root {
        transport
            .add_root_certificates_pem(root.as_bytes())
            .map_err(|e| merchant(e.into()))?;
    }
    let config = et_http::ClientConfig {
        transport,
        ..et_http::ClientConfig::default()
    };
    Client::configured(endpoint, credentials, profile, config).map_err(|e| merchant(e.into()))
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}
