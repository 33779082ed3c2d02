//! PKCS#11 URIs (RFC 7512) naming a merchant's private key on a token.

use core::fmt;
use std::path::PathBuf;

use zeroize::Zeroizing;

use crate::Error;

/// What is wrong with a PKCS#11 URI. Never quotes a PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriFault {
    /// It does not start with `pkcs11:`.
    Scheme,
    /// An attribute is not `name=value`, or a `%` escape is broken.
    Malformed,
    /// An attribute this reader does not know (path attributes select the
    /// key: ignoring one could select another key).
    UnknownAttribute(String),
    /// An attribute given twice.
    Repeated(String),
    /// A required attribute is missing (`module-path`, or both `object`
    /// and `id`).
    Missing(&'static str),
    /// `type` names something else than a private key.
    NotPrivateKey,
    /// Both `pin-value` and `pin-source` are given.
    TwoPins,
}

impl fmt::Display for UriFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UriFault::Scheme => f.write_str("it does not start with `pkcs11:`"),
            UriFault::Malformed => {
                f.write_str("an attribute is not name=value or has a bad %-escape")
            }
            UriFault::UnknownAttribute(name) => write!(f, "unknown attribute `{name}`"),
            UriFault::Repeated(name) => write!(f, "attribute `{name}` given twice"),
            UriFault::Missing(name) => write!(f, "`{name}` is missing"),
            UriFault::NotPrivateKey => f.write_str("`type` must be `private`"),
            UriFault::TwoPins => f.write_str("both `pin-value` and `pin-source` are given"),
        }
    }
}

/// A parsed PKCS#11 URI: which module, which token, which key, and the
/// PIN (or where to read it). `Debug` and `Display` never show the PIN.
///
/// Path attributes read: `token`, `serial`, `slot-id`, `object`, `id`,
/// `type` (`private` only); query attributes: `module-path`, `pin-value`,
/// `pin-source` (a file path or a `file:` URI). Values are
/// percent-decoded. Example:
/// `pkcs11:token=merchant;object=et-signing?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=/run/secrets/pin`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// `module-path`: the PKCS#11 library to load.
    pub module_path: PathBuf,
    /// `token`: the token's label.
    pub token: Option<String>,
    /// `serial`: the token's serial number.
    pub serial: Option<String>,
    /// `slot-id`: the slot's number.
    pub slot_id: Option<u64>,
    /// `object`: the key's label (`CKA_LABEL`).
    pub object: Option<String>,
    /// `id`: the key's `CKA_ID` bytes.
    pub id: Option<Vec<u8>>,
    /// `pin-value`, or a PIN set with [`Pkcs11Uri::with_pin`].
    pub pin: Option<Zeroizing<String>>,
    /// `pin-source`: a file holding the PIN (read when the key is opened).
    pub pin_source: Option<PathBuf>,
}

impl Pkcs11Uri {
    /// Parses `text`.
    ///
    /// # Errors
    /// [`Error::Pkcs11Uri`] saying what is wrong (never quoting a PIN).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let fail = |fault| Error::Pkcs11Uri { fault };
        let rest = text
            .trim()
            .strip_prefix("pkcs11:")
            .ok_or(fail(UriFault::Scheme))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Pkcs11Uri::default();
        let mut module = None;
        let attributes = path
            .split(';')
            .map(|a| (a, true))
            .chain(query.split('&').map(|a| (a, false)));
        for (attribute, in_path) in attributes.filter(|(a, _)| !a.is_empty()) {
            let (name, raw) = attribute.split_once('=').ok_or(fail(UriFault::Malformed))?;
            let value = Zeroizing::new(percent_decode(raw).ok_or(fail(UriFault::Malformed))?);
            let text = || String::from_utf8(value.to_vec()).map_err(|_| fail(UriFault::Malformed));
            let repeated = || fail(UriFault::Repeated(name.to_owned()));
            match (name, in_path) {
                ("token", true) => set(&mut uri.token, text()?).ok_or_else(repeated)?,
                ("serial", true) => set(&mut uri.serial, text()?).ok_or_else(repeated)?,
                ("object", true) => set(&mut uri.object, text()?).ok_or_else(repeated)?,
                ("id", true) => set(&mut uri.id, value.to_vec()).ok_or_else(repeated)?,
                ("slot-id", true) => {
                    let number = text()?.parse().map_err(|_| fail(UriFault::Malformed))?;
                    set(&mut uri.slot_id, number).ok_or_else(repeated)?;
                }
                ("type", true) if value.as_slice() == b"private" => {}
                ("type", true) => return Err(fail(UriFault::NotPrivateKey)),
                ("module-path", false) => set(&mut module, text()?).ok_or_else(repeated)?,
                ("pin-value", false) => {
                    set(&mut uri.pin, Zeroizing::new(text()?)).ok_or_else(repeated)?;
                }
                ("pin-source", false) => {
                    let source = text()?;
                    let path = source.strip_prefix("file:").unwrap_or(&source);
                    set(&mut uri.pin_source, PathBuf::from(path)).ok_or_else(repeated)?;
                }
                _ => return Err(fail(UriFault::UnknownAttribute(name.to_owned()))),
            }
        }
        uri.module_path = module.ok_or(fail(UriFault::Missing("module-path")))?.into();
        if uri.object.is_none() && uri.id.is_none() {
            return Err(fail(UriFault::Missing("object")));
        }
        if uri.pin.is_some() && uri.pin_source.is_some() {
            return Err(fail(UriFault::TwoPins));
        }
        Ok(uri)
    }

    /// The same URI with `pin` as its PIN (e.g. read from an environment
    /// variable), replacing `pin-value` and `pin-source`.
    #[must_use]
    pub fn with_pin(mut self, pin: Zeroizing<String>) -> Self {
        self.pin = Some(pin);
        self.pin_source = None;
        self
    }
}

/// Sets an attribute given once; `None` when it was already set.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            let hex = std::str::from_utf8(&hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

/// The URI without its PIN: `pin-value` shown as `<redacted>`.
impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path = Vec::new();
        if let Some(token) = &self.token {
            path.push(format!("token={token}"));
        }
        if let Some(serial) = &self.serial {
            path.push(format!("serial={serial}"));
        }
        if let Some(slot) = self.slot_id {
            path.push(format!("slot-id={slot}"));
        }
        if let Some(object) = &self.object {
            path.push(format!("object={object}"));
        }
        if let Some(id) = &self.id {
            let hex: String = id.iter().map(|b| format!("%{b:02x}")).collect();
            path.push(format!("id={hex}"));
        }
        write!(
            f,
            "pkcs11:{}?module-path={}",
            path.join(";"),
            self.module_path.display()
        )?;
        if self.pin.is_some() {
            f.write_str("&pin-value=<redacted>")?;
        }
        if let Some(source) = &self.pin_source {
            write!(f, "&pin-source={}", source.display())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pkcs11Uri({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODULE: &str = "module-path=/usr/lib/softhsm/libsofthsm2.so";

    #[test]
    fn uri_reads_every_attribute_percent_decoded() {
        let uri = Pkcs11Uri::parse(&format!(
            "pkcs11:token=My%20Token;object=et-key;id=%01%ff;type=private;slot-id=7;serial=abc?{MODULE}&pin-value=12%3B34"
        ))
        .expect("parses");
        assert_eq!(uri.token.as_deref(), Some("My Token"));
        assert_eq!(uri.object.as_deref(), Some("et-key"));
        assert_eq!(uri.id.as_deref(), Some(&[1u8, 255][..]));
        assert_eq!(uri.slot_id, Some(7));
        assert_eq!(uri.serial.as_deref(), Some("abc"));
        assert_eq!(uri.pin.as_deref().map(String::as_str), Some("12;34"));
        assert_eq!(
            uri.module_path,
            PathBuf::from("/usr/lib/softhsm/libsofthsm2.so")
        );
    }

    #[test]
    fn uri_pin_source_accepts_a_path_or_file_uri() {
        for source in ["/run/pin", "file:/run/pin"] {
            let uri = Pkcs11Uri::parse(&format!("pkcs11:object=k?{MODULE}&pin-source={source}"))
                .expect("parses");
            assert_eq!(uri.pin_source, Some(PathBuf::from("/run/pin")));
        }
    }

    #[test]
    fn uri_faults_are_named() {
        let fault = |text: &str| match Pkcs11Uri::parse(text) {
            Err(Error::Pkcs11Uri { fault }) => fault,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(fault("file:/key.pem"), UriFault::Scheme);
        assert_eq!(fault("pkcs11:object=k"), UriFault::Missing("module-path"));
        assert_eq!(
            fault(&format!("pkcs11:token=t?{MODULE}")),
            UriFault::Missing("object")
        );
        assert_eq!(
            fault(&format!("pkcs11:object=k;object=j?{MODULE}")),
            UriFault::Repeated("object".into())
        );
        assert_eq!(
            fault(&format!("pkcs11:object=k;colour=red?{MODULE}")),
            UriFault::UnknownAttribute("colour".into())
        );
        assert_eq!(
            fault(&format!("pkcs11:object=k;type=public?{MODULE}")),
            UriFault::NotPrivateKey
        );
        assert_eq!(
            fault(&format!("pkcs11:object=k%zz?{MODULE}")),
            UriFault::Malformed
        );
        assert_eq!(
            fault(&format!("pkcs11:object?{MODULE}")),
            UriFault::Malformed
        );
        assert_eq!(
            fault(&format!(
                "pkcs11:object=k?{MODULE}&pin-value=1&pin-source=/p"
            )),
            UriFault::TwoPins
        );
    }

    #[test]
    fn uri_shown_never_carries_its_pin() {
        let uri = Pkcs11Uri::parse(&format!("pkcs11:object=k?{MODULE}&pin-value=s3cret-pin"))
            .expect("parses");
        for shown in [uri.to_string(), format!("{uri:?}")] {
            assert!(!shown.contains("s3cret-pin"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        let error =
            Pkcs11Uri::parse("pkcs11:object=k&pin-value=s3cret-pin").expect_err("no module");
        assert!(!format!("{error} {error:?}").contains("s3cret-pin"));
    }
}
