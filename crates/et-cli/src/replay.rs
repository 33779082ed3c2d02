//! `et replay`: every reply `et record` stored, opened again with the
//! current profile and keys and checked against its recorded request, so
//! that a merchant's real exchanges with ET are a regression suite.

use std::fmt;
use std::path::Path;

use et_model::ServerType;
use et_proto::{BuiltRequest, Credentials, Merchant, Message, UntypedObject};

use crate::cli::ReplayArgs;
use crate::error::{CliResult, Failure};
use crate::input::{read_input, Input};
use crate::profile::ProfileOptions;
use crate::recording::{complete_exchanges, path, Meta, Part};

/// `et replay`: one line per exchange, then a summary line; exit 0 when
/// every exchange with an ET reply verifies and opens, 1 (naming the
/// exchanges) when one does not, 2 when there is nothing to replay.
pub(crate) fn replay(args: &ReplayArgs) -> CliResult {
    let numbers = complete_exchanges(&args.dir)?;
    if numbers.is_empty() {
        return Err(Failure::usage(format_args!(
            "{}: no recorded exchanges (N.meta.json files written by `et record`)",
            args.dir.display()
        )));
    }
    let (merchant_key, et_public) = args.keys.load()?;
    let credentials = Credentials::new("", "", merchant_key, et_public, "");
    let merchant = Merchant::new(credentials, args.profile.to_profile()?);
    let mut failed = Vec::new();
    let (mut verified, mut skipped) = (0, 0);
    for number in &numbers {
        let outcome = replay_one(&merchant, &args.dir, *number)?;
        crate::output::line(format_args!("{number:06} {outcome}"))?;
        match outcome.verdict {
            Verdict::Verifies(_) => verified += 1,
            Verdict::Skipped(_) => skipped += 1,
            Verdict::Fails(_) => failed.push(format!("{number:06}")),
        }
    }
    let exchanges = if numbers.len() == 1 {
        "exchange"
    } else {
        "exchanges"
    };
    crate::output::line(format_args!(
        "replayed {} {exchanges}: {verified} verify, {} fail, {skipped} skipped",
        numbers.len(),
        failed.len(),
    ))?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::rejected(format_args!(
            "{} of {} recorded replies no longer verify with this profile and these keys: {}",
            failed.len(),
            numbers.len(),
            failed.join(", ")
        )))
    }
}

/// What replaying one exchange found.
struct Outcome {
    /// `server_type` and `serial_number` as recorded, for the report.
    meta: Meta,
    verdict: Verdict,
}

/// Whether an exchange's reply still verifies.
enum Verdict {
    /// It verifies and opens: a success, or a signed refusal (its code).
    Verifies(String),
    /// It does not: why.
    Fails(String),
    /// There is no ET reply to judge: why.
    Skipped(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.meta.server_type, &self.meta.serial_number) {
            (Some(server_type), Some(serial)) => write!(f, "{server_type} {serial}: ")?,
            _ => f.write_str("(request not an envelope): ")?,
        }
        match &self.verdict {
            Verdict::Verifies(what) => write!(f, "verifies ({what})"),
            Verdict::Fails(why) => write!(f, "FAILS: {why}"),
            Verdict::Skipped(why) => write!(f, "skipped: {why}"),
        }
    }
}

/// Opens exchange `number`'s reply against its request. Only an unreadable
/// file is an error; everything about the exchange itself is a verdict.
fn replay_one(merchant: &Merchant, dir: &Path, number: u64) -> CliResult<Outcome> {
    let read = |part| read_input(&path(dir, number, part), Input::Recorded);
    let meta_path = path(dir, number, Part::Meta);
    let meta: Meta = serde_json::from_slice(&read(Part::Meta)?)
        .map_err(|e| Failure::usage(e).context(meta_path.display()))?;
    let verdict = match (meta.status, &meta.error) {
        (None, error) => Verdict::Skipped(format!(
            "no reply was recorded (upstream: {})",
            error.as_deref().unwrap_or("no answer")
        )),
        (Some(status), _) if !(200..300).contains(&status) => {
            Verdict::Skipped(format!("upstream answered HTTP {status}, not ET's reply"))
        }
        (Some(_), _) => judge(merchant, &read(Part::Request)?, &read(Part::Reply)?),
    };
    Ok(Outcome { meta, verdict })
}

/// The verdict on `reply` to `request` under `merchant`'s profile and keys.
fn judge(merchant: &Merchant, request: &[u8], reply: &[u8]) -> Verdict {
    let built = match built_request(request) {
        Ok(built) => built,
        Err(e) => return Verdict::Fails(format!("the recorded request is not an envelope: {e}")),
    };
    match merchant.open_untyped(Some(&built), reply, std::time::SystemTime::now()) {
        Ok(opened) => Verdict::Verifies(format!(
            "{} {}",
            opened.reply.status_code.as_str(),
            opened.reply.message
        )),
        Err(et_proto::Error::Api {
            code,
            message,
            authenticated: true,
        }) => Verdict::Verifies(format!("a signed refusal: {} {message}", code.as_str())),
        Err(e) => Verdict::Fails(e.to_string()),
    }
}

/// What the reply is checked against, from the recorded request envelope:
/// its bytes, `serial_number`, `server_type` and the `return_info` the
/// reply must echo.
fn built_request(request: &[u8]) -> Result<BuiltRequest, et_proto::Error> {
    let envelope = UntypedObject::parse_json(request, Message::Request)?;
    Ok(BuiltRequest {
        body: request.to_vec(),
        serial_number: envelope.require("serial_number")?.to_owned(),
        server_type: ServerType::from_code(envelope.require("server_type")?),
        return_info: envelope.text("return_info").unwrap_or_default().to_owned(),
    })
}
