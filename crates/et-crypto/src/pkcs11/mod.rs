//! A merchant key on a PKCS#11 token or HSM (feature `pkcs11`), through the
//! `cryptoki` crate: signing and `aeskey` unwrapping run on the token, and
//! the private key never enters this process.

mod uri;

use core::fmt;
use std::sync::Mutex;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use zeroize::Zeroizing;

pub use uri::{Pkcs11Uri, UriFault};

use crate::key_input::{MAX_BITS, MIN_BITS};
use crate::{Error, KeyPadding, KeyUnwrap, MerchantKey, PublicKey, SignHash, Signer};

/// The step of talking to a token that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenStep {
    /// Loading the module (`module-path`) or `C_Initialize`.
    LoadModule,
    /// Finding the one token the URI names.
    FindToken,
    /// Opening a session.
    OpenSession,
    /// Reading the PIN from `pin-source`.
    ReadPin,
    /// Logging in with the PIN.
    Login,
    /// Finding the one private key the URI names.
    FindKey,
    /// Reading the key's public half (modulus and exponent).
    ReadPublicKey,
    /// Generating a key pair on the token.
    GenerateKey,
    /// Signing.
    Sign,
}

impl fmt::Display for TokenStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenStep::LoadModule => "loading the module",
            TokenStep::FindToken => "finding the token",
            TokenStep::OpenSession => "opening a session",
            TokenStep::ReadPin => "reading the PIN file",
            TokenStep::Login => "logging in",
            TokenStep::FindKey => "finding the private key",
            TokenStep::ReadPublicKey => "reading the public key",
            TokenStep::GenerateKey => "generating a key pair",
            TokenStep::Sign => "signing",
        })
    }
}

/// Why a token refused a step: the PKCS#11 return values an operator can
/// act on, the rest as [`TokenCause::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenCause {
    /// The PIN is wrong (`CKR_PIN_INCORRECT`, `CKR_PIN_INVALID`, `CKR_PIN_LEN_RANGE`).
    PinIncorrect,
    /// The PIN is locked after too many wrong tries (`CKR_PIN_LOCKED`).
    PinLocked,
    /// The PIN has expired (`CKR_PIN_EXPIRED`).
    PinExpired,
    /// No PIN was given and the token needs one (`CKR_USER_NOT_LOGGED_IN`).
    NotLoggedIn,
    /// The token is gone (`CKR_TOKEN_NOT_PRESENT`, `CKR_DEVICE_REMOVED`).
    TokenGone,
    /// The token failed (`CKR_DEVICE_ERROR`, `CKR_DEVICE_MEMORY`).
    DeviceError,
    /// The key may not do this (`CKR_KEY_FUNCTION_NOT_PERMITTED`).
    NotPermitted,
    /// The token does not offer the mechanism (`CKR_MECHANISM_INVALID`).
    MechanismUnsupported,
    /// The module could not be loaded or initialised.
    Module,
    /// Nothing matched, or more than one thing did (a token, a key).
    NoSingleMatch,
    /// Any other return value.
    Other,
}

impl fmt::Display for TokenCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenCause::PinIncorrect => "the PIN is wrong",
            TokenCause::PinLocked => "the PIN is locked",
            TokenCause::PinExpired => "the PIN has expired",
            TokenCause::NotLoggedIn => "no PIN was given and the token needs one",
            TokenCause::TokenGone => "the token is gone",
            TokenCause::DeviceError => "the token failed",
            TokenCause::NotPermitted => "the key may not do this",
            TokenCause::MechanismUnsupported => "the token does not offer the mechanism",
            TokenCause::Module => "the module could not be loaded",
            TokenCause::NoSingleMatch => "not exactly one match",
            TokenCause::Other => "the token refused",
        })
    }
}

impl From<&CkError> for TokenCause {
    fn from(error: &CkError) -> Self {
        let CkError::Pkcs11(rv, _) = error else {
            return match error {
                CkError::LibraryLoading(_) | CkError::MissingSymbol(_) => TokenCause::Module,
                _ => TokenCause::Other,
            };
        };
        match rv {
            RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange => {
                TokenCause::PinIncorrect
            }
            RvError::PinLocked => TokenCause::PinLocked,
            RvError::PinExpired => TokenCause::PinExpired,
            RvError::UserNotLoggedIn => TokenCause::NotLoggedIn,
            RvError::TokenNotPresent | RvError::DeviceRemoved => TokenCause::TokenGone,
            RvError::DeviceError | RvError::DeviceMemory => TokenCause::DeviceError,
            RvError::KeyFunctionNotPermitted => TokenCause::NotPermitted,
            RvError::MechanismInvalid => TokenCause::MechanismUnsupported,
            _ => TokenCause::Other,
        }
    }
}

/// A merchant's RSA private key on a PKCS#11 token, opened from a
/// [`Pkcs11Uri`]. Sign and unwrap run on the token; operations on one key
/// are serialised on its one logged-in session. `Debug` shows the URI
/// without its PIN, and the PIN is not kept once logged in.
pub struct Pkcs11Key {
    session: Mutex<Session>,
    key: ObjectHandle,
    public: PublicKey,
    uri: Pkcs11Uri,
}

impl Pkcs11Key {
    /// Loads the module, finds the token and logs in with the URI's PIN
    /// (none: a token that needs no login), then finds the one private key
    /// the URI names and reads its public half.
    ///
    /// # Errors
    /// [`Error::Token`] naming the step; [`Error::KeySize`] outside
    /// 1024–4096 bits, [`Error::PublicExponent`] below 65537.
    pub fn open(uri: &Pkcs11Uri) -> Result<Self, Error> {
        let session = login(uri)?;
        let mut template = vec![
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::RSA),
        ];
        if let Some(label) = &uri.object {
            template.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(id) = &uri.id {
            template.push(Attribute::Id(id.clone()));
        }
        let found = session
            .find_objects(&template)
            .map_err(token(TokenStep::FindKey))?;
        let [key] = found[..] else {
            return Err(no_single_match(TokenStep::FindKey));
        };
        let public = read_public(&session, key)?;
        Ok(Pkcs11Key {
            session: Mutex::new(session),
            key,
            public,
            uri: uri.clone(),
        })
    }

    /// Generates a `bits`-bit key pair on the token, labelled with the
    /// URI's `object` (and `id`), its private half sensitive and not
    /// extractable, then opens it as [`Pkcs11Key::open`] does.
    ///
    /// # Errors
    /// [`Error::KeySize`] out of range; [`Error::Token`] naming the step.
    pub fn generate(uri: &Pkcs11Uri, bits: usize) -> Result<Self, Error> {
        if !(MIN_BITS..=MAX_BITS).contains(&bits) {
            return Err(Error::KeySize { bits });
        }
        let session = login(uri)?;
        let mut common = Vec::new();
        if let Some(label) = &uri.object {
            common.push(Attribute::Label(label.as_bytes().to_vec()));
        }
        if let Some(id) = &uri.id {
            common.push(Attribute::Id(id.clone()));
        }
        let mut public = common.clone();
        public.extend([
            Attribute::Token(true),
            Attribute::Verify(true),
            Attribute::Encrypt(true),
            Attribute::ModulusBits((bits as u64).into()),
            Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
        ]);
        let mut private = common;
        private.extend([
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(true),
        ]);
        session
            .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public, &private)
            .map_err(token(TokenStep::GenerateKey))?;
        drop(session);
        Self::open(uri)
    }

    /// The URI this key was opened from (its PIN, if any, kept for
    /// nothing else than what [`Pkcs11Uri`] says).
    pub fn uri(&self) -> &Pkcs11Uri {
        &self.uri
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        // A session is plain state on the token's side: a panic elsewhere
        // while holding the lock leaves it usable.
        self.session
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Signer for Pkcs11Key {
    fn sign(&self, hash: SignHash, msg: &[u8]) -> Result<Vec<u8>, Error> {
        let mechanism = match hash {
            SignHash::Sha256 => Mechanism::Sha256RsaPkcs,
            SignHash::Sha1 => Mechanism::Sha1RsaPkcs,
        };
        self.session()
            .sign(&mechanism, self.key, msg)
            .map_err(token(TokenStep::Sign))
    }
}

impl KeyUnwrap for Pkcs11Key {
    fn decrypt_key(
        &self,
        padding: KeyPadding,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.public.check_key_ciphertext(ciphertext)?;
        let oaep = |hash, mgf| {
            Mechanism::RsaPkcsOaep(PkcsOaepParams::new(hash, mgf, PkcsOaepSource::empty()))
        };
        let mechanism = match padding {
            KeyPadding::Pkcs1v15 => Mechanism::RsaPkcs,
            KeyPadding::OaepSha256 => oaep(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
            KeyPadding::OaepSha1 => oaep(MechanismType::SHA1, PkcsMgfType::MGF1_SHA1),
            KeyPadding::OaepSha256Mgf1Sha1 => oaep(MechanismType::SHA256, PkcsMgfType::MGF1_SHA1),
        };
        // Whatever the token says is one error: its reason would be an oracle.
        self.session()
            .decrypt(&mechanism, self.key, ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| Error::RsaDecrypt)
    }
}

impl MerchantKey for Pkcs11Key {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }
}

impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("uri", &self.uri)
            .field("bits", &self.public.bits())
            .finish_non_exhaustive()
    }
}

/// The error of a failed token `step`, with the token's reason.
fn token(step: TokenStep) -> impl Fn(CkError) -> Error {
    move |error| Error::Token {
        step,
        cause: TokenCause::from(&error),
    }
}

/// A step that found no single match.
fn no_single_match(step: TokenStep) -> Error {
    Error::Token {
        step,
        cause: TokenCause::NoSingleMatch,
    }
}

/// The module at `path`, loaded and initialised once per process and kept:
/// PKCS#11 allows one `C_Initialize` per module and process, which every
/// key on it shares.
fn module(path: &std::path::Path) -> Result<Pkcs11, Error> {
    static MODULES: Mutex<Vec<(std::path::PathBuf, Pkcs11)>> = Mutex::new(Vec::new());
    let mut modules = MODULES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, pkcs11)) = modules.iter().find(|(p, _)| p == path) {
        return Ok(pkcs11.clone());
    }
    let pkcs11 = Pkcs11::new(path).map_err(token(TokenStep::LoadModule))?;
    match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Initialised by another part of this process: shared, as above.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(token(TokenStep::LoadModule)(e)),
    }
    modules.push((path.to_owned(), pkcs11.clone()));
    Ok(pkcs11)
}

/// A logged-in session on the token `uri` names.
fn login(uri: &Pkcs11Uri) -> Result<Session, Error> {
    let pkcs11 = module(&uri.module_path)?;
    let slot = find_slot(&pkcs11, uri)?;
    let session = pkcs11
        .open_rw_session(slot)
        .map_err(token(TokenStep::OpenSession))?;
    let pin = match (&uri.pin, &uri.pin_source) {
        (Some(pin), _) => Some(pin.clone()),
        (None, Some(path)) => Some(read_pin(path)?),
        (None, None) => None,
    };
    if let Some(pin) = pin {
        let pin = AuthPin::from(pin.as_str());
        match session.login(UserType::User, Some(&pin)) {
            // Login is per application and token: a second key's session
            // finds the user logged in already.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(token(TokenStep::Login)(e)),
        }
    }
    Ok(session)
}

/// The one slot whose token matches the URI's `token`, `serial` and `slot-id`.
fn find_slot(pkcs11: &Pkcs11, uri: &Pkcs11Uri) -> Result<Slot, Error> {
    let slots = pkcs11
        .get_slots_with_token()
        .map_err(token(TokenStep::FindToken))?;
    let mut matching = Vec::new();
    for slot in slots {
        if uri.slot_id.is_some_and(|id| id != slot.id()) {
            continue;
        }
        let info = pkcs11
            .get_token_info(slot)
            .map_err(token(TokenStep::FindToken))?;
        let label_ok = uri.token.as_deref().is_none_or(|t| info.label() == t);
        let serial_ok = uri
            .serial
            .as_deref()
            .is_none_or(|s| info.serial_number() == s);
        if label_ok && serial_ok {
            matching.push(slot);
        }
    }
    match matching[..] {
        [slot] => Ok(slot),
        _ => Err(no_single_match(TokenStep::FindToken)),
    }
}

/// The PIN in `path`: its first line, at most 256 bytes.
fn read_pin(path: &std::path::Path) -> Result<Zeroizing<String>, Error> {
    use std::io::Read;
    let failed = Error::Token {
        step: TokenStep::ReadPin,
        cause: TokenCause::Other,
    };
    let mut text = Zeroizing::new(String::new());
    std::fs::File::open(path)
        .and_then(|file| file.take(257).read_to_string(&mut text))
        .map_err(|_| failed.clone())?;
    if text.len() > 256 {
        return Err(failed);
    }
    let line = text.lines().next().unwrap_or_default();
    Ok(Zeroizing::new(line.to_owned()))
}

/// The public half of the private key `key`, from its modulus and exponent.
fn read_public(session: &Session, key: ObjectHandle) -> Result<PublicKey, Error> {
    let attributes = session
        .get_attributes(
            key,
            &[AttributeType::Modulus, AttributeType::PublicExponent],
        )
        .map_err(token(TokenStep::ReadPublicKey))?;
    let (mut modulus, mut exponent) = (None, None);
    for attribute in attributes {
        match attribute {
            Attribute::Modulus(n) => modulus = Some(n),
            Attribute::PublicExponent(e) => exponent = Some(e),
            _ => {}
        }
    }
    match (modulus, exponent) {
        (Some(n), Some(e)) => PublicKey::from_components(&n, &e),
        _ => Err(no_single_match(TokenStep::ReadPublicKey)),
    }
}
