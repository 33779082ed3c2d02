//! The `et` command tree (clap derive). Every subcommand has `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use et_crypto::{KeyPadding, SignHash};
use et_proto::{
    CallbackEncoding, EmptySensitive, NotifySignRule, SettingName, SignRule, TuitionSpelling,
};

/// `et`: keys, envelopes and notifications for EasyTransfer (易思汇), a local
/// ET sandbox, and a demo of a whole order lifecycle.
#[derive(Debug, Parser)]
#[command(name = "et", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (program name first) like `Cli::try_parse_from`, with
    /// the exit-code table after every `--help`.
    pub(crate) fn parse_with_exit_codes<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = with_after_help(Self::command(), &exit_code_help());
        let matches = command.try_get_matches_from_mut(args)?;
        Self::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
    }
}

/// The exit-code table as `--help` shows it, from [`crate::error::exit_codes`].
pub(crate) fn exit_code_help() -> String {
    let mut help = String::from("Exit codes:");
    for (code, meaning) in crate::error::exit_codes() {
        help.push_str(&format!("\n  {code}  {meaning}"));
    }
    help
}

fn with_after_help(command: clap::Command, help: &str) -> clap::Command {
    command
        .after_help(help.to_owned())
        .mut_subcommands(|sub| with_after_help(sub, help))
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an RSA key pair: DIR/private.pem (PKCS#8) and DIR/public.pem (SPKI).
    Keygen(KeygenArgs),
    /// Run a local ET sandbox.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Work with request envelopes.
    #[command(subcommand)]
    Request(RequestCommand),
    /// Work with response envelopes.
    #[command(subcommand)]
    Response(ResponseCommand),
    /// Sign and verify asynchronous notifications (salted MD5).
    #[command(subcommand)]
    Notify(NotifyCommand),
    /// Call any operation with the merchant of a sandbox directory.
    Call(CallArgs),
    /// Forward each POST to ET (or a sandbox) and store every exchange in a directory.
    Record(RecordArgs),
    /// Open every reply `et record` stored with the current profile and keys; report which verify.
    Replay(ReplayArgs),
    /// Search ET's institution directory (where an order's institution_code comes from).
    #[command(subcommand)]
    Institutions(InstitutionsCommand),
    /// Run a whole order lifecycle against a local sandbox and check every step.
    Demo(DemoArgs),
    /// Profile files: the choices ET's pages leave open.
    #[command(subcommand)]
    Profile(ProfileCommand),
}

/// `et profile …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCommand {
    /// Print a profile file: the default one, or the one the options describe.
    Show(ProfileShowArgs),
    /// Find the profile a captured reply or notification verifies under; print it as a profile file.
    Detect(ProfileDetectArgs),
}

/// `et profile show`.
#[derive(Debug, Args)]
pub(crate) struct ProfileShowArgs {
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `et profile detect`: one reply (with --merchant-key and --et-public-key)
/// or one notification (with --salt-file).
#[derive(Debug, Args)]
pub(crate) struct ProfileDetectArgs {
    /// The merchant's private key (a reply's `aeskey`): a key file or a
    /// `pkcs11:` URI (RFC 7512).
    #[arg(
        long,
        value_name = "PEM",
        requires = "et_public_key",
        conflicts_with = "salt_file"
    )]
    pub merchant_key: Option<PathBuf>,
    /// ET's public key (a reply's `sign`).
    #[arg(long, value_name = "PEM", requires = "merchant_key")]
    pub et_public_key: Option<PathBuf>,
    /// The notification salt, for a notification.
    #[arg(long, value_name = "FILE")]
    pub salt_file: Option<PathBuf>,
    /// The captured message (default or `-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The profile whose other settings the result keeps.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `et keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Key size in bits (1024 to 4096).
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1024..=4096))]
    pub bits: u32,
    /// Directory to write private.pem and public.pem into (created 0700 if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace existing key files (by new files: a symbolic link there is not followed).
    #[arg(long)]
    pub force: bool,
}

/// `et sandbox …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SandboxCommand {
    /// Create ET's key pair and one merchant in DIR.
    Init(SandboxInitArgs),
    /// Serve the sandbox on the state in DIR until Ctrl-C or SIGTERM.
    Serve(SandboxServeArgs),
    /// Drive a running sandbox's order as ET would (remit, complete, refund outcome…).
    Admin(SandboxAdminArgs),
    /// List, add or clear a running sandbox's failures on demand (et_sandbox::faults).
    Faults(SandboxFaultsArgs),
    /// Rotate ET's key and the salt of a stopped sandbox, the old ones
    /// still accepted for a window: a rollover to rehearse.
    Rotate(SandboxRotateArgs),
}

/// `et sandbox rotate`.
#[derive(Debug, Args)]
pub(crate) struct SandboxRotateArgs {
    /// State directory made by `et sandbox init` (its sandbox stopped).
    #[arg(long)]
    pub dir: PathBuf,
    /// Seconds the old key and salt are still accepted.
    #[arg(long, default_value_t = 86_400)]
    pub window: u64,
}

/// `et sandbox init`.
#[derive(Debug, Args)]
pub(crate) struct SandboxInitArgs {
    /// State directory (created if missing).
    #[arg(long)]
    pub dir: PathBuf,
    /// RSA key size for ET's and the merchant's key pairs.
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1024..=4096))]
    pub bits: u32,
    /// Profile file the sandbox plays (stored as DIR/profile.json) [default: the default profile].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

/// `et sandbox serve`.
#[derive(Debug, Args)]
pub(crate) struct SandboxServeArgs {
    /// State directory made by `et sandbox init`.
    #[arg(long)]
    pub dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8877")]
    pub listen: SocketAddr,
    /// How much faster than real time the sandbox clock runs (order closing, notification retries).
    #[arg(long, default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// Profile file to play from now on, replacing DIR/profile.json [default: the one stored].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Allow a --listen address beyond loopback. Other machines then reach ET's API and
    /// pages; the dashboard and admin routes require the secret printed at start.
    #[arg(long)]
    pub expose: bool,
}

/// Where a running sandbox is, for its admin routes.
#[derive(Debug, Args)]
pub(crate) struct SandboxTarget {
    /// The sandbox's ET endpoint (e.g. http://127.0.0.1:8877/server) or its base URL.
    #[arg(long)]
    pub endpoint: String,
    /// The secret of a sandbox served with --expose (best in the environment: a flag
    /// shows in the process list).
    #[arg(long, env = "ET_SANDBOX_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
}

/// `et sandbox admin`.
#[derive(Debug, Args)]
pub(crate) struct SandboxAdminArgs {
    /// The sandbox.
    #[command(flatten)]
    pub target: SandboxTarget,
    /// ET order id.
    #[arg(required_unless_present_any = ["advance_clock", "reset_clock"])]
    pub order_id: Option<String>,
    /// What ET does next.
    #[arg(value_enum, required_unless_present_any = ["advance_clock", "reset_clock"])]
    pub action: Option<AdminAction>,
    /// Instead of an order's step: move the sandbox clock SECONDS forward (at most 3,660
    /// days at once, and 100 years ahead of real time); prints the new sandbox time.
    #[arg(long, value_name = "SECONDS", conflicts_with_all = ["order_id", "action", "reset_clock"])]
    pub advance_clock: Option<u64>,
    /// Instead of an order's step: bring the sandbox clock back to real time (pending
    /// notifications move back as much); prints the new sandbox time.
    #[arg(long, conflicts_with_all = ["order_id", "action"])]
    pub reset_clock: bool,
}

/// `et sandbox faults`.
#[derive(Debug, Args)]
pub(crate) struct SandboxFaultsArgs {
    /// The sandbox.
    #[command(flatten)]
    pub target: SandboxTarget,
    /// What to do with the fault rules.
    #[command(subcommand)]
    pub action: FaultsAction,
}

/// What `et sandbox faults` does.
#[derive(Debug, Subcommand)]
pub(crate) enum FaultsAction {
    /// Print the fault rules as JSON.
    List,
    /// Add a rule, e.g. '{"scope":{"next":1},"fault":{"kind":"reset","at":"after_commit"}}'.
    Add {
        /// The rule as JSON: a scope and a fault.
        rule: String,
    },
    /// Remove every rule (magic values still apply).
    Clear,
}

/// An admin action of the sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AdminAction {
    /// Print the order and its notifications.
    Show,
    /// Pay (0 → 1), as the checkout page does.
    Pay,
    /// Decline the payment, as the checkout page's Decline does: the order
    /// stays at 0, a payment notification with `pay_result` 0 goes out.
    DeclinePayment,
    /// Start remitting (1 → 2).
    Remit,
    /// Remitted (2 → 3); sends the remittance voucher.
    Receive,
    /// Funds received (3 → 4).
    Complete,
    /// Close an unpaid order (0 → -1).
    Close,
    /// The refund succeeded (-3 → -2).
    RefundSucceeded,
    /// The refund failed (-3 → the status before).
    RefundFailed,
}

/// `et request …`.
#[derive(Debug, Subcommand)]
pub(crate) enum RequestCommand {
    /// Print the signed, encrypted request envelope for any server type.
    Build(RequestBuildArgs),
}

/// `et request build`.
#[derive(Debug, Args)]
pub(crate) struct RequestBuildArgs {
    /// The operation's server_type, e.g. create_order, get_special_pay_url.
    #[arg(long = "op", value_name = "SERVER_TYPE")]
    pub server_type: String,
    /// Merchant number issued by ET.
    #[arg(long)]
    pub merchant_number: String,
    /// Sub-merchant number issued by ET.
    #[arg(long)]
    pub sub_merchant_number: String,
    /// The merchant's private key (PEM, DER or bare Base64), or a key on a
    /// PKCS#11 token: `pkcs11:token=…;object=…?module-path=…` (RFC 7512; PIN
    /// from `pin-value`, `pin-source` or ET_PKCS11_PIN).
    #[arg(long, value_name = "PEM")]
    pub merchant_key: PathBuf,
    /// ET's public key (PEM, DER or bare Base64).
    #[arg(long, value_name = "PEM")]
    pub et_public_key: PathBuf,
    /// The payloads.
    #[command(flatten)]
    pub payloads: PayloadArgs,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `--data`, `--sensitive` and `--no-validate`, shared by `et request build` and `et call`.
#[derive(Debug, Args)]
pub(crate) struct PayloadArgs {
    /// JSON object for `data` (`-` = stdin).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// JSON object for `sensitive_data`, encrypted (`-` = stdin).
    #[arg(long, value_name = "FILE")]
    pub sensitive: Option<PathBuf>,
    /// Send the payloads even if they break the rules of their operation
    /// (a known server_type's payloads are checked as the typed API checks
    /// them: fields, lengths, amounts).
    #[arg(long)]
    pub no_validate: bool,
}

/// `et response …`.
#[derive(Debug, Subcommand)]
pub(crate) enum ResponseCommand {
    /// Verify and decrypt a response; print status_code, message, data, sensitive_data.
    Open(ResponseOpenArgs),
}

/// `et response open`.
#[derive(Debug, Args)]
pub(crate) struct ResponseOpenArgs {
    /// The merchant's private key (decrypts `aeskey`): a key file or a
    /// `pkcs11:` URI (RFC 7512).
    #[arg(long, value_name = "PEM")]
    pub merchant_key: PathBuf,
    /// ET's public key (verifies `sign`).
    #[arg(long, value_name = "PEM")]
    pub et_public_key: PathBuf,
    /// The response body (default or `-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `et notify …`.
#[derive(Debug, Subcommand)]
pub(crate) enum NotifyCommand {
    /// Print the notification body with its `sign` added by the profile's
    /// notification rule (JSON or form-urlencoded in, same out).
    Sign(NotifyArgs),
    /// Verify a notification's `sign`; print its kind and fields.
    Verify(NotifyArgs),
    /// Sign a notification as ET would, POST it to any receiver, print the
    /// answer and check it is the acknowledgement ET expects (exit 4 if not).
    Send(NotifySendArgs),
}

/// The salt options of the `et notify` commands.
#[derive(Debug, Args)]
pub(crate) struct SaltArgs {
    /// The merchant's notification salt. On the command line it shows in the
    /// process list and shell history: prefer ET_NOTIFY_SALT or --salt-file.
    #[arg(
        long,
        env = "ET_NOTIFY_SALT",
        hide_env_values = true,
        required_unless_present = "salt_file"
    )]
    pub salt: Option<String>,
    /// A file holding the salt (one trailing newline dropped); wins over --salt and ET_NOTIFY_SALT.
    #[arg(long, value_name = "FILE")]
    pub salt_file: Option<PathBuf>,
}

/// `et notify sign` / `et notify verify`.
#[derive(Debug, Args)]
pub(crate) struct NotifyArgs {
    /// The salt.
    #[command(flatten)]
    pub salt: SaltArgs,
    /// The body, JSON or form-urlencoded (default or `-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `et notify send`.
#[derive(Debug, Args)]
pub(crate) struct NotifySendArgs {
    /// The receiver's URL: https, or plain http to a loopback host.
    #[arg(value_name = "URL")]
    pub url: String,
    /// Which notification: each gets typed defaults for its documented fields
    /// (amount 10000.00, results 1, order status 1, times now in Beijing time,
    /// extend_info "", the refund_order_id the order id, ET's example voucher URL).
    #[arg(long, value_enum)]
    pub kind: NotifyKindArg,
    /// The ET order id (`order_id`).
    #[arg(long = "order", value_name = "ID")]
    pub order_id: String,
    /// Set a field, replacing its default or adding it (repeatable). A value
    /// replacing a number is sent as a JSON number when it is one; every
    /// other value as a string.
    #[arg(long = "set", value_name = "FIELD=VALUE", value_parser = parse_field_setting)]
    pub set: Vec<(String, String)>,
    /// Send the body form-urlencoded (what the v1 page says ET sends) instead of JSON.
    #[arg(long)]
    pub form: bool,
    /// Seconds to wait for the whole answer.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub timeout: u64,
    /// The salt.
    #[command(flatten)]
    pub salt: SaltArgs,
    /// Profile choices (the notification rule decides how it is signed:
    /// v2, or under v1-compat the v1 page's printed form).
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `--kind` of `et notify send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NotifyKindArg {
    /// Payment result (`pay_result`).
    Payment,
    /// Order status change (`notify_type` order_status_change).
    Status,
    /// Refund result (`refund_result`); acknowledged by a signed reply.
    Refund,
    /// Remittance voucher (`remittance_voucher_url`).
    Voucher,
}

/// `FIELD=VALUE`: split at the first `=`; the field named, and not `sign`
/// (which is computed).
fn parse_field_setting(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some(("", _)) | None => Err(format!("`{s}` is not FIELD=VALUE")),
        Some((et_proto::SIGN_KEY, _)) => {
            Err("`sign` is computed from the fields and the salt; it cannot be set".to_owned())
        }
        Some((field, value)) => Ok((field.to_owned(), value.to_owned())),
    }
}

/// `et call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// ET endpoint URL, e.g. http://127.0.0.1:8877/server.
    #[arg(long)]
    pub endpoint: String,
    /// Directory made by `et sandbox init` (merchant.json and the keys).
    #[arg(long)]
    pub dir: PathBuf,
    /// The operation's server_type.
    #[arg(value_name = "OP")]
    pub server_type: String,
    /// The payloads.
    #[command(flatten)]
    pub payloads: PayloadArgs,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `et record`.
#[derive(Debug, Args)]
pub(crate) struct RecordArgs {
    /// Where every POST goes, whatever its path: ET's test environment
    /// (https) or a sandbox (plain http to a loopback host).
    #[arg(long, value_name = "URL")]
    pub upstream: String,
    /// Address to listen on; point the client's endpoint at it.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8878")]
    pub listen: SocketAddr,
    /// Directory for the exchanges (created 0700; files 0600; numbering
    /// continues after the exchanges already there).
    #[arg(long)]
    pub dir: PathBuf,
}

/// `et replay`.
#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// A directory `et record` wrote.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The merchant's private key (decrypts `aeskey`): a key file or a
    /// `pkcs11:` URI (RFC 7512).
    #[arg(long, value_name = "PEM")]
    pub merchant_key: PathBuf,
    /// ET's public key (verifies `sign`).
    #[arg(long, value_name = "PEM")]
    pub et_public_key: PathBuf,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `et institutions …`.
#[derive(Debug, Subcommand)]
pub(crate) enum InstitutionsCommand {
    /// Print the institutions whose name contains KEY: code, English and Chinese name, country, type.
    Search(InstitutionsSearchArgs),
}

/// `et institutions search`.
#[derive(Debug, Args)]
pub(crate) struct InstitutionsSearchArgs {
    /// Text to look for in the names, English or Chinese (empty: all).
    #[arg(value_name = "KEY")]
    pub key: String,
    /// ET endpoint URL (ET's, or a sandbox's such as http://127.0.0.1:8877/server).
    #[arg(long)]
    pub endpoint: String,
    /// Directory with the merchant: merchant.json and the keys (as `et sandbox init` makes).
    #[arg(long)]
    pub dir: PathBuf,
    /// `institution_type` to search [default: 1, what ET's demo sends].
    #[arg(long = "type", value_name = "CODE")]
    pub institution_type: Option<i64>,
    /// Send no `institution_type`: every kind of institution.
    #[arg(long, conflicts_with = "institution_type")]
    pub any_type: bool,
    /// How many to return; 0 is ET's default page.
    #[arg(long, default_value_t = 0)]
    pub count: u32,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
}

/// `et demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// RSA key size for ET and the merchant.
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u32).range(1024..=4096))]
    pub bits: u32,
    /// Sandbox clock speed-up.
    #[arg(long, default_value_t = 3600.0, value_parser = parse_time_scale)]
    pub time_scale: f64,
    /// Seconds to wait for each notification.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Run the third-party jump flow: the student places and pays the order at ET.
    #[arg(long)]
    pub jump: bool,
    /// Store notifications in an et-inbox SQLite inbox before acknowledging
    /// them, then reconcile an order and consume the inbox.
    #[arg(long)]
    pub inbox: bool,
    /// The merchant's key instead of a fresh one: a key file, or a key on
    /// a PKCS#11 token (`pkcs11:token=…;object=…?module-path=…`, PIN from
    /// `pin-value`, `pin-source` or ET_PKCS11_PIN). The sandbox is given
    /// its public half.
    #[arg(long, value_name = "PEM|URI")]
    pub merchant_key: Option<PathBuf>,
}

/// The Profile's choices (see `et_proto::Profile`), shared by every command
/// that builds, opens or verifies something: a profile file, and options
/// that override it (everything not named keeps the file's, or the
/// Profile's default).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Profile (choices ET's pages leave open)")]
pub(crate) struct ProfileArgs {
    /// A profile file (JSON; `et profile show` prints the default one, `et
    /// profile detect` one that a captured message verifies under); the
    /// options below override it.
    #[arg(long = "profile", value_name = "FILE")]
    pub profile_file: Option<PathBuf>,
    /// Hash of the RSA `sign` [default: sha256].
    #[arg(long, value_parser = setting::<SignHash>())]
    pub sign_hash: Option<SignHash>,
    /// RSA padding of `aeskey` [default: pkcs1].
    #[arg(long, value_parser = setting::<KeyPadding>())]
    pub key_padding: Option<KeyPadding>,
    /// Also try the other paddings when `aeskey` does not decrypt with
    /// --key-padding (default: --key-padding only, one RSA decryption).
    #[arg(long)]
    pub detect_key_padding: bool,
    /// Sign-string rule [default: all-sorted].
    #[arg(long, value_parser = setting::<SignRule>())]
    pub sign_rule: Option<SignRule>,
    /// Empty `sensitive_data`: send "" (ET's page) or encrypt `[]` (ET's demo) [default: empty-string].
    #[arg(long, value_parser = setting::<EmptySensitive>())]
    pub empty_sensitive: Option<EmptySensitive>,
    /// How `callback_process` goes on the wire [default: integer].
    #[arg(long, value_parser = setting::<CallbackEncoding>())]
    pub callback_process: Option<CallbackEncoding>,
    /// Envelope `version` [default: 2.0.0].
    #[arg(long)]
    pub api_version: Option<String>,
    /// `server_type` of the order interface [default: create-order].
    #[arg(long, value_enum)]
    pub order_server_type: Option<OrderServerTypeArg>,
    /// Notification signature rule accepted when verifying [default: v2].
    #[arg(long, alias = "notify-rule", value_parser = setting::<NotifySignRule>())]
    pub notify_sign_rule: Option<NotifySignRule>,
    /// How `create_order` spells its amount [default: tuituon].
    #[arg(long, value_parser = setting::<TuitionSpelling>())]
    pub tuition_spelling: Option<TuitionSpelling>,
}

/// A value parser for a Profile setting, from its one table of names.
fn setting<T: SettingName + Send + Sync + Clone>() -> impl clap::builder::TypedValueParser<Value = T>
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(T::NAMES.iter().map(|(name, _)| *name))
        .try_map(|name| T::from_name(&name).ok_or("not a value of this setting"))
}

/// `--order-server-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OrderServerTypeArg {
    /// The newest page's name.
    CreateOrder,
    /// The older pages' name.
    AddSpecialRentOrder,
}

fn parse_time_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= et_sandbox::MAX_TIME_SCALE => Ok(x),
        _ => Err(format!(
            "`{s}` is not a positive number of at most {}",
            et_sandbox::MAX_TIME_SCALE
        )),
    }
}
