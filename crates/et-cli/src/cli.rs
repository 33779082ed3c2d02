//! The `et` command tree (clap derive). Every subcommand has `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{Args, Parser, Subcommand, ValueEnum};
use et_crypto::{KeyPadding, SignHash};
use et_proto::{
    CallbackEncoding, EmptySensitive, NotifySignRule, SettingName, SignRule, TuitionSpelling,
};

/// `et`: keys, envelopes and notifications for EasyTransfer (易思汇), a local
/// ET sandbox, and a demo of a whole order lifecycle.
#[derive(Debug, Parser)]
#[command(
    name = "et",
    // Usage lines say `et`, as error lines do, whatever the file is called
    // (a renamed copy; the tests' build of this binary, crates/et-tests).
    bin_name = "et",
    version,
    about,
    long_about = None,
    propagate_version = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses `args` (program name first) like `Cli::try_parse_from`, with
    /// the help this command adds at run time: the exit-code table after
    /// the top-level `--help` (`et help exit-codes` prints it alone, see
    /// [`is_exit_codes_topic`]), a pointer to it after every other, and the
    /// fault kinds after `faults add --help`.
    pub(crate) fn parse_with_exit_codes<I, T>(args: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{CommandFactory, FromArgMatches};
        let mut command = Self::command()
            .mut_subcommands(|sub| with_after_help(sub, EXIT_CODES_POINTER))
            .after_help(format!("{}\n\n{EXIT_CODES_TOPIC}", exit_code_help()))
            .mut_subcommand("sandbox", |sandbox| {
                sandbox.mut_subcommand("faults", |faults| {
                    faults.mut_subcommand("add", |add| add.after_help(fault_kinds_help()))
                })
            });
        let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
        if args
            .get(1..)
            .is_some_and(|rest| rest == ["help", "exit-codes"])
        {
            return Err(command.error(clap::error::ErrorKind::DisplayHelp, exit_code_help()));
        }
        let matches = command.try_get_matches_from_mut(args)?;
        Self::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
    }
}

/// Whether `args` (program name first) are `help exit-codes`.
pub(crate) fn is_exit_codes_topic(args: &[std::ffi::OsString]) -> bool {
    args.get(1..)
        .is_some_and(|rest| rest == ["help", "exit-codes"])
}

/// After every subcommand's help: where the exit codes are.
const EXIT_CODES_POINTER: &str = "Exit codes: see `et help exit-codes`.";
/// After the top-level help.
const EXIT_CODES_TOPIC: &str = "`et help exit-codes` prints this table alone.";

/// The exit-code table as `--help` shows it, from [`crate::error::exit_codes`].
pub(crate) fn exit_code_help() -> String {
    let mut help = String::from("Exit codes:");
    for (code, meaning) in crate::error::exit_codes() {
        help.push_str(&format!("\n  {code}  {meaning}"));
    }
    help
}

fn with_after_help(command: clap::Command, help: &'static str) -> clap::Command {
    let command = match command.get_after_help() {
        Some(own) => {
            let own = own.to_string();
            command.after_help(format!("{own}\n\n{help}"))
        }
        None => command.after_help(help),
    };
    command.mut_subcommands(|sub| with_after_help(sub, help))
}

/// The fault kinds et-sandbox plays, as serde names them (the names a rule's
/// `kind` takes, read from the type itself: its error for an unknown kind
/// lists them).
pub(crate) fn fault_kinds() -> Vec<String> {
    let unknown = serde_json::from_str::<et_sandbox::Fault>(r#"{"kind":""}"#);
    let text = unknown.err().map(|e| e.to_string()).unwrap_or_default();
    let listed = text
        .split_once("expected one of ")
        .map_or("", |(_, kinds)| kinds);
    let listed = listed.split(" at line ").next().unwrap_or_default();
    listed
        .split(", ")
        .map(|kind| kind.trim_matches('`').to_owned())
        .filter(|kind| !kind.is_empty())
        .collect()
}

fn fault_kinds_help() -> String {
    format!(
        "Fault kinds (\"kind\"): {}.\nEach kind's fields and the scopes are in et_sandbox::faults \
         (cargo doc -p et-sandbox --open).",
        fault_kinds().join(", ")
    )
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate an RSA key pair: DIR/private.pem (PKCS#8) and DIR/public.pem (SPKI).
    Keygen(KeygenArgs),
    /// Run a local ET sandbox.
    #[command(subcommand, arg_required_else_help = true)]
    Sandbox(SandboxCommand),
    /// Work with request envelopes.
    #[command(subcommand, arg_required_else_help = true)]
    Request(RequestCommand),
    /// Work with response envelopes.
    #[command(subcommand, arg_required_else_help = true)]
    Response(ResponseCommand),
    /// Sign and verify asynchronous notifications (salted MD5).
    #[command(subcommand, arg_required_else_help = true)]
    Notify(NotifyCommand),
    /// Call any operation with the merchant of a sandbox directory.
    Call(CallArgs),
    /// Forward each POST to ET (or a sandbox) and store every exchange in a directory.
    Record(RecordArgs),
    /// Open every reply `et record` stored with the current profile and keys; report which verify.
    Replay(ReplayArgs),
    /// Search ET's institution directory (where an order's institution_code comes from).
    #[command(subcommand, arg_required_else_help = true)]
    Institutions(InstitutionsCommand),
    /// Run a whole order lifecycle against a local sandbox and check every step.
    Demo(DemoArgs),
    /// Profile files: the choices ET's pages leave open.
    #[command(subcommand, arg_required_else_help = true)]
    Profile(ProfileCommand),
    /// Operate a notification inbox (et-inbox, SQLite or PostgreSQL) without SQL.
    Inbox(crate::inbox_cmd::InboxArgs),
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
    #[arg(long, default_value_t = 2048, value_parser = key_bits())]
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
    #[arg(long, env = "ET_SANDBOX_DIR")]
    pub dir: PathBuf,
    /// RSA key size for ET's and the merchant's key pairs.
    #[arg(long, default_value_t = 2048, value_parser = key_bits())]
    pub bits: u32,
    /// Profile file the sandbox plays (stored as DIR/profile.json) [default: the default profile].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

/// `et sandbox serve`.
#[derive(Debug, Args)]
pub(crate) struct SandboxServeArgs {
    /// State directory made by `et sandbox init`.
    #[arg(long, env = "ET_SANDBOX_DIR")]
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
    /// Serve HTTPS (API, pages, dashboard) with a certificate made once into
    /// DIR/tls-cert.pem (key DIR/tls-key.pem) and reused; clients trust it as a root.
    #[arg(long)]
    pub tls: bool,
}

/// Where a running sandbox is, for its admin routes.
#[derive(Debug, Args)]
pub(crate) struct SandboxTarget {
    /// The sandbox's ET endpoint (e.g. http://127.0.0.1:8877/server) or its base URL
    /// [required].
    #[arg(long, env = "ET_ENDPOINT", global = true)]
    pub endpoint: Option<String>,
    /// The secret of a sandbox served with --expose (best in the environment: a flag
    /// shows in the process list).
    #[arg(long, env = "ET_SANDBOX_SECRET", hide_env_values = true, global = true)]
    pub secret: Option<String>,
    /// A PEM certificate to trust besides web PKI's roots: the sandbox's
    /// DIR/tls-cert.pem when it serves --tls.
    #[arg(long, value_name = "PEM")]
    pub tls_root: Option<PathBuf>,
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
    /// What ET does next (`show` prints the order and its notifications).
    #[arg(
        value_parser = admin_step_names(),
        required_unless_present_any = ["advance_clock", "reset_clock"]
    )]
    pub action: Option<String>,
    /// Instead of an order's step: move the sandbox clock SECONDS forward (at most 3,660
    /// days at once, and 100 years ahead of real time); prints the new sandbox time.
    #[arg(long, value_name = "SECONDS", conflicts_with_all = ["order_id", "action", "reset_clock"])]
    pub advance_clock: Option<u64>,
    /// Instead of an order's step: bring the sandbox clock back to real time (pending
    /// notifications move back as much); prints the new sandbox time.
    #[arg(long, conflicts_with_all = ["order_id", "action"])]
    pub reset_clock: bool,
}

/// `show` and the sandbox's order steps ([`et_sandbox::AdminAction::ORDER_STEPS`]),
/// each with its help.
fn admin_step_names() -> clap::builder::PossibleValuesParser {
    let show = PossibleValue::new(et_sandbox::AdminAction::SHOW)
        .help("Print the order and its notifications");
    let steps = et_sandbox::AdminAction::ORDER_STEPS
        .iter()
        .map(|&(name, _, _, help)| PossibleValue::new(name).help(help));
    clap::builder::PossibleValuesParser::new(std::iter::once(show).chain(steps))
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
    /// The keys.
    #[command(flatten)]
    pub keys: KeyPairArgs,
    /// The payloads.
    #[command(flatten)]
    pub payloads: PayloadArgs,
    /// Profile choices.
    #[command(flatten)]
    pub profile: EnvelopeProfileArgs,
}

/// `--merchant-key` and `--et-public-key`, shared by `et request build`,
/// `et response open` and `et replay`.
#[derive(Debug, Args)]
pub(crate) struct KeyPairArgs {
    /// The merchant's private key (signs requests, decrypts `aeskey`): PEM,
    /// DER or bare Base64, or a key on a PKCS#11 token:
    /// `pkcs11:token=…;object=…?module-path=…` (RFC 7512; PIN from
    /// `pin-value`, `pin-source` or ET_PKCS11_PIN).
    #[arg(long, value_name = "PEM")]
    pub merchant_key: PathBuf,
    /// ET's public key (encrypts `aeskey`, verifies `sign`): PEM, DER or
    /// bare Base64.
    #[arg(long, value_name = "PEM")]
    pub et_public_key: PathBuf,
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
    /// The keys.
    #[command(flatten)]
    pub keys: KeyPairArgs,
    /// The response body (default or `-`: stdin).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ReplyProfileArgs,
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
    #[arg(long, env = "ET_NOTIFY_SALT", hide_env_values = true)]
    pub salt: Option<String>,
    /// A file holding the salt (one trailing newline dropped); wins over --salt and
    /// ET_NOTIFY_SALT. The preferred way [required unless ET_NOTIFY_SALT or --salt].
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
    pub profile: NotifyProfileArgs,
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
    pub profile: NotifyProfileArgs,
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
#[command(after_help = "Examples:\n  \
    et call create_order --template > order.json    # the fields create_order requires\n  \
    et call create_order order.json                 # et puts each field in data or sensitive_data\n  \
    et call get_rate --data rate.json               # the parts given explicitly")]
pub(crate) struct CallArgs {
    /// The merchant: where ET is and the sandbox directory.
    #[command(flatten)]
    pub merchant: MerchantArgs,
    /// The operation's server_type, e.g. create_order, get_special_pay_url.
    #[arg(value_name = "OP")]
    pub server_type: String,
    /// A JSON object with the operation's fields (`-` = stdin): `et` puts
    /// each field in `data` or `sensitive_data`, as the operation does.
    #[arg(value_name = "PAYLOAD", conflicts_with_all = ["data", "sensitive"])]
    pub payload: Option<PathBuf>,
    /// Print a payload with the fields OP requires, to fill in and pass as
    /// PAYLOAD (the other fields it reads go to stderr).
    #[arg(long, conflicts_with_all = ["payload", "data", "sensitive", "no_validate"])]
    pub template: bool,
    /// The payloads.
    #[command(flatten)]
    pub payloads: PayloadArgs,
    /// Profile choices.
    #[command(flatten)]
    pub profile: EnvelopeProfileArgs,
}

/// `--endpoint` and `--dir` of the commands that call ET as a sandbox
/// directory's merchant.
#[derive(Debug, Args)]
pub(crate) struct MerchantArgs {
    /// ET endpoint URL (ET's, or a sandbox's: its base URL such as
    /// http://127.0.0.1:8877 is enough) [required].
    #[arg(long, env = "ET_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Directory with the merchant: merchant.json and the keys (as `et
    /// sandbox init` makes) [required].
    #[arg(long, env = "ET_SANDBOX_DIR")]
    pub dir: Option<PathBuf>,
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
    /// The keys.
    #[command(flatten)]
    pub keys: KeyPairArgs,
    /// Profile choices.
    #[command(flatten)]
    pub profile: ReplyProfileArgs,
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
    /// The merchant: where ET is and the sandbox directory.
    #[command(flatten)]
    pub merchant: MerchantArgs,
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
    pub profile: EnvelopeProfileArgs,
}

/// `et demo`.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// RSA key size for ET and the merchant.
    #[arg(long, default_value_t = 2048, value_parser = key_bits())]
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
    /// Run against the sandbox over HTTPS (`et sandbox serve --tls`): the
    /// client and the browser trust its certificate as an extra root.
    #[arg(long)]
    pub tls: bool,
    /// The merchant's key instead of a fresh one: a key file, or a key on
    /// a PKCS#11 token (`pkcs11:token=…;object=…?module-path=…`, PIN from
    /// `pin-value`, `pin-source` or ET_PKCS11_PIN). The sandbox is given
    /// its public half.
    #[arg(long, value_name = "PEM|URI")]
    pub merchant_key: Option<PathBuf>,
}

/// Declares a command's profile options: `--profile FILE`, then the option
/// groups that change what the command does, each laid over the profile in
/// turn (they set different settings).
macro_rules! profile_args {
    ($($(#[$doc:meta])* $name:ident { $($group:ident: $ty:ty),+ })*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Args)]
            pub(crate) struct $name {
                #[command(flatten)]
                pub file: ProfileFileArg,
                $(
                    #[command(flatten)]
                    pub $group: $ty,
                )+
            }

            impl crate::profile::ProfileOptions for $name {
                fn file(&self) -> &ProfileFileArg {
                    &self.file
                }
                fn apply(&self, profile: et_proto::Profile) -> et_proto::Profile {
                    $(let profile = self.$group.apply(profile);)+
                    profile
                }
            }
        )*
    };
}

profile_args! {
    /// The Profile's choices (see `et_proto::Profile`), every one: `et profile
    /// show` and `et profile detect`. The other commands take the groups that
    /// change what they do ([`EnvelopeProfileArgs`], [`ReplyProfileArgs`],
    /// [`NotifyProfileArgs`]); each option overrides the profile file's (or the
    /// default's) value.
    ProfileArgs { reply: ReplyOptions, request: RequestOptions, notify: NotifyOptions }

    /// The profile options of a command that builds requests and opens
    /// replies (`request build`, `call`, `institutions search`).
    EnvelopeProfileArgs { reply: ReplyOptions, request: RequestOptions }

    /// The profile options of a command that only opens replies (`response
    /// open`, `replay`).
    ReplyProfileArgs { reply: ReplyOptions }

    /// The profile options of the notification commands.
    NotifyProfileArgs { notify: NotifyOptions }
}

/// `--profile FILE`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Profile (choices ET's pages leave open)")]
pub(crate) struct ProfileFileArg {
    /// A profile file (JSON; `et profile show` prints the default one, `et
    /// profile detect` one that a captured message verifies under); the
    /// options below override it.
    #[arg(long = "profile", value_name = "FILE")]
    pub profile_file: Option<PathBuf>,
}

/// How a reply is verified and opened (and a request signed and sealed).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Profile (choices ET's pages leave open)")]
pub(crate) struct ReplyOptions {
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
}

/// How a request is written.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Profile (choices ET's pages leave open)")]
pub(crate) struct RequestOptions {
    /// How `callback_process` goes on the wire [default: integer].
    #[arg(long, value_parser = setting::<CallbackEncoding>())]
    pub callback_process: Option<CallbackEncoding>,
    /// Envelope `version` [default: 2.0.0].
    #[arg(long)]
    pub api_version: Option<String>,
    /// `server_type` of the order interface [default: create-order].
    #[arg(long, value_enum)]
    pub order_server_type: Option<OrderServerTypeArg>,
    /// How `create_order` spells its amount [default: tuituon].
    #[arg(long, value_parser = setting::<TuitionSpelling>())]
    pub tuition_spelling: Option<TuitionSpelling>,
}

/// How a notification is signed and verified.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Profile (choices ET's pages leave open)")]
pub(crate) struct NotifyOptions {
    /// Notification signature rule accepted when verifying [default: v2].
    #[arg(long, alias = "notify-rule", value_parser = setting::<NotifySignRule>())]
    pub notify_sign_rule: Option<NotifySignRule>,
}

/// A value parser for a Profile setting, from its one table of names.
fn setting<T: SettingName + Send + Sync + Clone>() -> impl clap::builder::TypedValueParser<Value = T>
{
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(T::NAMES.iter().map(|(name, _)| *name))
        .try_map(|name| T::from_code(&name).ok_or("not a value of this setting"))
}

/// `--order-server-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OrderServerTypeArg {
    /// The newest page's name.
    CreateOrder,
    /// The older pages' name.
    AddSpecialRentOrder,
}

/// An RSA key size et-crypto generates: 1024 to 4096 bits.
fn key_bits() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(1024..=4096)
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_fault_kinds_come_from_the_sandboxs_type() {
        let kinds = super::fault_kinds();
        assert!(kinds.len() >= 5, "{kinds:?}");
        for kind in &kinds {
            let rule = format!(r#"{{"kind":"{kind}"}}"#);
            let read = serde_json::from_str::<et_sandbox::Fault>(&rule);
            let why = read.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(!why.contains("unknown variant"), "{kind}: {why}");
        }
    }
}
