//! The `et` command tree (clap derive). Every subcommand has `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Search ET's institution directory (where an order's institution_code comes from).
    #[command(subcommand)]
    Institutions(InstitutionsCommand),
    /// Run a whole order lifecycle against a local sandbox and check every step.
    Demo(DemoArgs),
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
    /// The merchant's private key (PEM, DER or bare Base64).
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

/// `--data` and `--sensitive`, shared by `et request build` and `et call`.
#[derive(Debug, Args)]
pub(crate) struct PayloadArgs {
    /// JSON object for `data` (`-` = stdin).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// JSON object for `sensitive_data`, encrypted (`-` = stdin).
    #[arg(long, value_name = "FILE")]
    pub sensitive: Option<PathBuf>,
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
    /// The merchant's private key (decrypts `aeskey`).
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
    /// Print the notification body with its `sign` added (JSON or form-urlencoded in, same out).
    Sign(NotifyArgs),
    /// Verify a notification's `sign`; print its kind and fields.
    Verify(NotifyArgs),
}

/// `et notify sign` / `et notify verify`.
#[derive(Debug, Args)]
pub(crate) struct NotifyArgs {
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
    /// The body, JSON or form-urlencoded (default or `-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ProfileArgs,
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
}

/// The Profile's choices (see `et_proto::Profile`), shared by every command
/// that builds, opens or verifies something. Defaults are the Profile's.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Profile (choices ET's pages leave open)")]
pub(crate) struct ProfileArgs {
    /// Hash of the RSA `sign`.
    #[arg(long, value_enum, default_value_t = SignHashArg::Sha256)]
    pub sign_hash: SignHashArg,
    /// RSA padding of `aeskey`.
    #[arg(long, value_enum, default_value_t = KeyPaddingArg::Pkcs1)]
    pub key_padding: KeyPaddingArg,
    /// Also try the other paddings when `aeskey` does not decrypt with
    /// --key-padding (default: --key-padding only, one RSA decryption).
    #[arg(long)]
    pub detect_key_padding: bool,
    /// Sign-string rule.
    #[arg(long, value_enum, default_value_t = SignRuleArg::AllSorted)]
    pub sign_rule: SignRuleArg,
    /// Empty `sensitive_data`: send "" (ET's page) or encrypt `[]` (ET's demo).
    #[arg(long, value_enum, default_value_t = EmptySensitiveArg::EmptyString)]
    pub empty_sensitive: EmptySensitiveArg,
    /// How `callback_process` goes on the wire.
    #[arg(long, value_enum, default_value_t = CallbackProcessArg::Integer)]
    pub callback_process: CallbackProcessArg,
    /// Envelope `version`.
    #[arg(long, default_value = "2.0.0")]
    pub api_version: String,
    /// `server_type` of the order interface.
    #[arg(long, value_enum, default_value_t = OrderServerTypeArg::CreateOrder)]
    pub order_server_type: OrderServerTypeArg,
    /// Notification signature rule accepted when verifying.
    #[arg(long, value_enum, default_value_t = NotifyRuleArg::V2)]
    pub notify_rule: NotifyRuleArg,
}

/// `--sign-hash`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SignHashArg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Sha256,
    /// RSASSA-PKCS1-v1_5 with SHA-1.
    Sha1,
}

/// `--key-padding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyPaddingArg {
    /// PKCS#1 v1.5.
    Pkcs1,
    /// OAEP with SHA-256 (MGF1-SHA-256).
    OaepSha256,
    /// OAEP with SHA-1 (MGF1-SHA-1).
    OaepSha1,
    /// OAEP with SHA-256 and MGF1-SHA-1 (Java's OAEPWithSHA-256AndMGF1Padding).
    OaepSha256Mgf1Sha1,
}

/// `--sign-rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SignRuleArg {
    /// Every key but `sign`, sorted, empty values kept.
    AllSorted,
    /// As all-sorted, keys with empty values left out.
    SkipEmpty,
}

/// `--empty-sensitive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EmptySensitiveArg {
    /// `sensitive_data` and `aeskey` sent as "".
    EmptyString,
    /// `[]` encrypted like any payload.
    EncryptEmptyList,
}

/// `--callback-process`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CallbackProcessArg {
    /// A JSON number, `0`.
    Integer,
    /// A JSON string, `"0"`.
    String,
    /// Always `""` (ET's demo).
    Empty,
}

/// `--order-server-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OrderServerTypeArg {
    /// The newest page's name.
    CreateOrder,
    /// The older pages' name.
    AddSpecialRentOrder,
}

/// `--notify-rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum NotifyRuleArg {
    /// v2 only: salt + sorted `key=value` joined by `&`.
    V2,
    /// v2, or the v1 page's printed form.
    V1Compat,
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
