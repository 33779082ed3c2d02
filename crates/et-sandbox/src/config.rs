//! The state directory: key files, `merchant.json`, the rate table
//! (`sandbox.json`) and the database (`sandbox.db`).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use et_proto::Profile;

use crate::codes::SandboxCode;
use crate::faults::{FaultPlan, FaultRule};
use crate::files::{self, Existing};
use crate::institutions::{self, InstitutionDirectory};
use crate::Error;

/// ET's private key (PKCS#8 PEM).
pub const ET_PRIVATE_PEM: &str = "et-private.pem";
/// ET's public key (SPKI PEM), for the merchant.
pub const ET_PUBLIC_PEM: &str = "et-public.pem";
/// The merchant's private key (PKCS#8 PEM), for the merchant.
pub const MERCHANT_PRIVATE_PEM: &str = "merchant-private.pem";
/// The merchant's public key (SPKI PEM).
pub const MERCHANT_PUBLIC_PEM: &str = "merchant-public.pem";
/// `merchant_number`, `sub_merchant_number` and `salt`.
pub const MERCHANT_JSON: &str = "merchant.json";
/// The rate table, the counter fee and the institution directory.
pub const SANDBOX_JSON: &str = "sandbox.json";
/// The SQLite database.
pub const DATABASE: &str = "sandbox.db";
/// The profile the sandbox plays and the directory's merchant tools speak
/// (an et-proto profile file).
pub const PROFILE_JSON: &str = "profile.json";

/// How to start a sandbox; [`SandboxConfig::new`] gives the defaults, so
/// set only what differs: `SandboxConfig { time_scale: 60.0,
/// ..SandboxConfig::new(dir) }`.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// State directory made by [`SandboxDir::init`].
    pub dir: PathBuf,
    /// Address to listen on (port 0 picks a free port). A loopback address
    /// unless [`exposure`](Self::exposure) is [`Exposure::Network`].
    pub listen: SocketAddr,
    /// How many times faster than real time the sandbox clock runs (> 0).
    pub time_scale: f64,
    /// Who may reach the sandbox.
    pub exposure: Exposure,
    /// Serve HTTPS with the state directory's certificate
    /// ([`TLS_CERT_PEM`](crate::TLS_CERT_PEM), made at the first start;
    /// [`RunningSandbox::tls_certificate_pem`](crate::RunningSandbox::tls_certificate_pem)
    /// is the root a client trusts) instead of plain HTTP.
    pub tls: bool,
}

impl SandboxConfig {
    /// The state in `dir`, on `127.0.0.1` and a free port, in real time,
    /// loopback only.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SandboxConfig {
            dir: dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            time_scale: 1.0,
            exposure: Exposure::Loopback,
            tls: false,
        }
    }
}

/// Who may reach a sandbox. Its dashboard shows decrypted payloads and its
/// admin routes move orders and the clock, so by default only this
/// machine may.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exposure {
    /// Listen on a loopback address only (`127.0.0.0/8`, `::1`); any other
    /// is refused with [`Error::NotLoopback`]. The dashboard and admin
    /// routes answer only when `Host` names loopback (a loopback address,
    /// `localhost`, `*.localhost`).
    #[default]
    Loopback,
    /// Listen on any address, other machines' reach included. The
    /// dashboard and the admin and fault routes then require the sandbox's
    /// secret, a random value made at each start
    /// ([`RunningSandbox::secret`](crate::RunningSandbox::secret), printed
    /// by `et sandbox serve --expose`); ET's API, checkout, jump and
    /// voucher routes do not.
    Network,
}

/// Options for [`SandboxDir::init`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitOptions {
    /// RSA key size for both key pairs (1024–4096; default 2048).
    pub bits: usize,
    /// Merchant number (default `ET82009`, ET's example).
    pub merchant_number: String,
    /// Sub-merchant number (default `ET82009S001`, ET's example).
    pub sub_merchant_number: String,
    /// The profile the sandbox plays (default `Profile::default()`),
    /// stored in [`PROFILE_JSON`] with the sandbox's own codes named
    /// ([`SandboxCode::named_in`]).
    pub profile: Profile,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            bits: 2048,
            merchant_number: "ET82009".into(),
            sub_merchant_number: "ET82009S001".into(),
            profile: Profile::default(),
        }
    }
}

/// The merchant of a sandbox directory (`merchant.json`).
#[derive(Clone, PartialEq, Eq)]
pub struct MerchantInfo {
    /// Merchant number.
    pub merchant_number: String,
    /// Sub-merchant number.
    pub sub_merchant_number: String,
    /// Notification MD5 salt (secret: zeroized on drop, redacted in `Debug`).
    pub salt: Zeroizing<String>,
}

/// `merchant.json` as written on disk.
#[derive(Serialize, Deserialize)]
struct MerchantFile<'a> {
    merchant_number: String,
    sub_merchant_number: String,
    #[serde(borrow)]
    salt: std::borrow::Cow<'a, str>,
}

impl fmt::Debug for MerchantInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantInfo")
            .field("merchant_number", &self.merchant_number)
            .field("sub_merchant_number", &self.sub_merchant_number)
            .field("salt", &"<redacted>")
            .finish()
    }
}

/// Rates and fees the sandbox quotes (`sandbox.json`). Amounts are decimal
/// text, never floats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTable {
    /// RMB per one unit of each currency, e.g. `"GBP": "9.2000"`.
    pub rates: BTreeMap<String, String>,
    /// Fee in RMB added to every order.
    pub counter_fee: String,
}

impl Default for RateTable {
    fn default() -> Self {
        let rates = [
            ("RMB", "1.0000"),
            ("CNY", "1.0000"),
            ("GBP", "9.2000"),
            ("USD", "7.2000"),
            ("EUR", "7.8000"),
            ("AUD", "4.7000"),
            ("CAD", "5.2000"),
            ("HKD", "0.9200"),
            ("SGD", "5.3000"),
            ("JPY", "0.0480"),
        ];
        RateTable {
            rates: rates.iter().map(|&(c, r)| (c.into(), r.into())).collect(),
            counter_fee: "50.00".into(),
        }
    }
}

impl RateTable {
    /// RMB per unit of `currency`, if the table has it.
    pub fn rate(&self, currency: &str) -> Option<Decimal> {
        let text = self.rates.get(&currency.to_ascii_uppercase())?;
        Decimal::from_str(text).ok()
    }

    /// The counter fee in RMB.
    pub fn counter_fee(&self) -> Result<Decimal, Error> {
        Decimal::from_str(&self.counter_fee).map_err(|_| Error::Config {
            path: PathBuf::from(SANDBOX_JSON),
            reason: format!("counter_fee {:?} is not a decimal", self.counter_fee),
        })
    }

    /// `amount` in RMB, rounded half-up to 2 decimals.
    pub fn to_rmb(&self, currency: &str, amount: Decimal) -> Option<Decimal> {
        let rmb = amount.checked_mul(self.rate(currency)?)?;
        Some(rmb.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
    }

    fn check(&self, path: &Path) -> Result<(), Error> {
        self.counter_fee()?;
        match self
            .rates
            .iter()
            .find(|(_, r)| Decimal::from_str(r).is_err())
        {
            Some((c, r)) => Err(Error::Config {
                path: path.to_owned(),
                reason: format!("rate of {c}, {r:?}, is not a decimal"),
            }),
            None => Ok(()),
        }
    }
}

/// A sandbox state directory and the files in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SandboxDir {
    root: PathBuf,
}

impl SandboxDir {
    /// The directory at `root` (nothing is read yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SandboxDir { root: root.into() }
    }

    /// Creates `dir` (if missing, mode 0700) with ET's key pair, one merchant
    /// with its key pair and a fresh salt, the default rate table and the
    /// profile to play. Refuses a directory that already holds any of these
    /// files; private keys, `merchant.json` and `profile.json` are written
    /// 0600 (see [`crate::files`]).
    pub fn init(dir: impl Into<PathBuf>, opts: &InitOptions) -> Result<MerchantInfo, Error> {
        let dir = SandboxDir::new(dir);
        files::create_private_dir(&dir.root).map_err(|e| Error::io(&dir.root, e))?;
        let written = [
            ET_PRIVATE_PEM,
            ET_PUBLIC_PEM,
            MERCHANT_PRIVATE_PEM,
            MERCHANT_PUBLIC_PEM,
            SANDBOX_JSON,
            MERCHANT_JSON,
            PROFILE_JSON,
        ];
        if let Some(path) = written
            .iter()
            .map(|name| dir.file(name))
            .find(|path| fs::symlink_metadata(path).is_ok())
        {
            return Err(Error::Config {
                path,
                reason: "already exists; use another directory".into(),
            });
        }
        crate::keys::write_pair(
            &dir.file(ET_PRIVATE_PEM),
            &dir.file(ET_PUBLIC_PEM),
            opts.bits,
        )?;
        crate::keys::write_pair(
            &dir.file(MERCHANT_PRIVATE_PEM),
            &dir.file(MERCHANT_PUBLIC_PEM),
            opts.bits,
        )?;
        let info = MerchantInfo {
            merchant_number: opts.merchant_number.clone(),
            sub_merchant_number: opts.sub_merchant_number.clone(),
            salt: Zeroizing::new(crate::keys::random_salt()),
        };
        let settings = SandboxFile {
            rates: &RateTable::default(),
            institutions: &institutions::seed(),
        };
        write_json(
            &dir.file(SANDBOX_JSON),
            &settings,
            files::PUBLIC,
            Existing::Refuse,
        )?;
        dir.write_merchant(&info, Existing::Refuse)?;
        dir.write_profile(&opts.profile, files::Existing::Refuse)?;
        Ok(info)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of one of the files above (e.g. [`MERCHANT_PRIVATE_PEM`]).
    pub fn file(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// Writes `merchant.json` (0600: it holds the salt).
    pub(crate) fn write_merchant(
        &self,
        info: &MerchantInfo,
        existing: Existing,
    ) -> Result<(), Error> {
        let file = MerchantFile {
            merchant_number: info.merchant_number.clone(),
            sub_merchant_number: info.sub_merchant_number.clone(),
            salt: std::borrow::Cow::Borrowed(info.salt.as_str()),
        };
        write_json(
            &self.file(MERCHANT_JSON),
            &file,
            files::OWNER_ONLY,
            existing,
        )
    }

    /// Reads `merchant.json`.
    pub fn merchant(&self) -> Result<MerchantInfo, Error> {
        let path = self.file(MERCHANT_JSON);
        let text = self.read(MERCHANT_JSON)?;
        let file: MerchantFile<'_> = parse_json(&path, &text)?;
        Ok(MerchantInfo {
            merchant_number: file.merchant_number,
            sub_merchant_number: file.sub_merchant_number,
            salt: Zeroizing::new(file.salt.into_owned()),
        })
    }

    /// Reads `sandbox.json`, or the default table if the file is missing.
    pub fn rate_table(&self) -> Result<RateTable, Error> {
        let path = self.file(SANDBOX_JSON);
        if !path.exists() {
            return Ok(RateTable::default());
        }
        let table: RateTable = parse_json(&path, &self.read(SANDBOX_JSON)?)?;
        table.check(&path)?;
        Ok(table)
    }

    /// Reads the institution directory from `sandbox.json` (`institutions`),
    /// or the seed list if the file or the key is missing.
    pub fn institutions(&self) -> Result<InstitutionDirectory, Error> {
        let path = self.file(SANDBOX_JSON);
        let listed = if path.exists() {
            let file: InstitutionsFile = parse_json(&path, &self.read(SANDBOX_JSON)?)?;
            file.institutions
        } else {
            None
        };
        InstitutionDirectory::new(listed.unwrap_or_else(institutions::seed))
            .map_err(|reason| Error::Config { path, reason })
    }

    /// Reads the fault rules of `sandbox.json` (`faults`, see
    /// [`crate::faults`]); none if the file or the key is missing.
    pub(crate) fn faults(&self) -> Result<FaultPlan, Error> {
        let path = self.file(SANDBOX_JSON);
        if !path.exists() {
            return Ok(FaultPlan::default());
        }
        let file: FaultsFile = parse_json(&path, &self.read(SANDBOX_JSON)?)?;
        FaultPlan::new(file.faults).map_err(|e| Error::Config {
            path,
            reason: format!("faults: {e}"),
        })
    }

    /// Reads `profile.json`, or the default profile if the file is missing;
    /// either way with the sandbox's own codes named
    /// ([`SandboxCode::named_in`]): the profile the sandbox plays, and the
    /// one a merchant talking to it speaks.
    pub fn profile(&self) -> Result<Profile, Error> {
        let path = self.file(PROFILE_JSON);
        let profile = if path.exists() {
            Profile::from_json(&self.read(PROFILE_JSON)?).map_err(|e| Error::Config {
                path,
                reason: e.to_string(),
            })?
        } else {
            Profile::default()
        };
        Ok(SandboxCode::named_in(profile))
    }

    /// Stores `profile` as the one the sandbox plays (replacing
    /// `profile.json`, atomically): what `et sandbox serve --profile` does
    /// before it starts.
    pub fn set_profile(&self, profile: &Profile) -> Result<(), Error> {
        self.write_profile(profile, files::Existing::Replace)
    }

    fn write_profile(&self, profile: &Profile, existing: files::Existing) -> Result<(), Error> {
        let path = self.file(PROFILE_JSON);
        let text = SandboxCode::named_in(profile.clone()).to_json();
        files::write_atomically(&path, text.as_bytes(), files::OWNER_ONLY, existing)
            .map_err(|e| Error::io(&path, e))
    }

    /// Reads a text file of the directory (at most [`files::MAX_CONFIG_FILE`] bytes).
    pub fn read(&self, name: &str) -> Result<Zeroizing<String>, Error> {
        let path = self.file(name);
        let bytes = Zeroizing::new(
            files::read_file_bounded(&path, files::MAX_CONFIG_FILE)
                .map_err(|e| Error::io(&path, e))?,
        );
        std::str::from_utf8(&bytes)
            .map(|text| Zeroizing::new(text.to_owned()))
            .map_err(|_| Error::Config {
                path,
                reason: "not UTF-8 text".into(),
            })
    }
}

/// `sandbox.json` as [`SandboxDir::init`] writes it.
#[derive(Serialize)]
struct SandboxFile<'a> {
    #[serde(flatten)]
    rates: &'a RateTable,
    institutions: &'a [et_model::Institution],
}

/// The part of `sandbox.json` the institution directory reads.
#[derive(Deserialize)]
struct InstitutionsFile {
    institutions: Option<Vec<et_model::Institution>>,
}

/// The part of `sandbox.json` the fault plan reads.
#[derive(Deserialize)]
struct FaultsFile {
    #[serde(default)]
    faults: Vec<FaultRule>,
}

/// Writes `value` as pretty JSON with `mode`, refusing to replace a file.
fn write_json<T: Serialize>(
    path: &Path,
    value: &T,
    mode: u32,
    existing: Existing,
) -> Result<(), Error> {
    let text = Zeroizing::new(
        serde_json::to_string_pretty(value).map_err(|e| Error::Config {
            path: path.to_owned(),
            reason: e.to_string(),
        })?,
    );
    files::write_atomically(path, text.as_bytes(), mode, existing).map_err(|e| Error::io(path, e))
}

fn parse_json<'a, T: Deserialize<'a>>(path: &Path, text: &'a str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Config {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
impl SandboxDir {
    /// A state directory at `dir` with small (fast) keys, for tests.
    pub(crate) fn init_small(dir: &Path) -> MerchantInfo {
        let options = InitOptions {
            bits: 1024,
            ..InitOptions::default()
        };
        SandboxDir::init(dir, &options).expect("a sandbox")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_to_rmb_with_half_up_rounding() {
        let t = RateTable::default();
        let amount = Decimal::from_str("100.005").expect("decimal");
        assert_eq!(
            t.to_rmb("gbp", amount).map(|d| d.to_string()),
            Some("920.05".into())
        );
        assert_eq!(t.to_rmb("XXX", amount), None);
        assert_eq!(
            t.counter_fee().map(|d| d.to_string()).ok(),
            Some("50.00".into())
        );
    }

    #[test]
    fn merchant_info_debug_hides_the_salt() {
        let info = MerchantInfo {
            merchant_number: "ET1".into(),
            sub_merchant_number: "ET1S001".into(),
            salt: Zeroizing::new("s3cret".into()),
        };
        let shown = format!("{info:?}");
        assert!(!shown.contains("s3cret") && shown.contains("redacted"));
    }

    #[test]
    fn bad_rate_tables_are_refused() {
        let mut t = RateTable::default();
        t.rates.insert("GBP".into(), "nine".into());
        let err = t.check(Path::new("sandbox.json")).expect_err("bad rate");
        assert!(err.to_string().contains("GBP"), "{err}");
    }
}
