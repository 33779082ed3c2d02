//! A real PKCS#11 token for tests: SoftHSM2 (Debian `softhsm2`, installed
//! by `.ci/run`) with its own configuration and token directory in a
//! temporary directory, one per test process.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` once, when the module is initialised, so
//! the whole process shares one token store: [`SoftHsm::get`] sets it up on
//! first use. Without SoftHSM2 it returns `None` after saying loudly that
//! the test is skipped; with `ET_REQUIRE_SERVICES=1` it panics instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The label of the token every test uses.
pub const TOKEN: &str = "et-test";
/// The token's user PIN.
pub const PIN: &str = "4711-et";
const SO_PIN: &str = "4711-so";

/// Where SoftHSM2's module is installed (Debian, then other layouts).
const MODULES: [&str; 3] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// The process's SoftHSM2 token store, with one initialised token [`TOKEN`].
#[derive(Debug)]
pub struct SoftHsm {
    module: PathBuf,
    conf: PathBuf,
    _dir: tempfile::TempDir,
}

impl SoftHsm {
    /// The token store, set up on first call; `None` when SoftHSM2 is not
    /// installed (see [`require_service`](crate::skip::require_service)).
    pub fn get(test: &str) -> Option<&'static SoftHsm> {
        static STORE: OnceLock<Option<SoftHsm>> = OnceLock::new();
        crate::skip::require_service(
            STORE.get_or_init(SoftHsm::set_up).as_ref(),
            test,
            "SoftHSM2",
            "apt-get install softhsm2, as .ci/run does",
        )
    }

    /// The PKCS#11 URI (RFC 7512) of the key labelled `object` on the
    /// test token, with its PIN, as `et` and `Pkcs11Uri::parse` take it.
    pub fn uri(&self, object: &str) -> String {
        format!(
            "pkcs11:token={TOKEN};object={object}?module-path={}&pin-value={PIN}",
            self.module.display()
        )
    }

    /// Imports the PKCS#8 PEM private key `pem` onto the test token as
    /// `object` (with `CKA_ID` `id`), through `softhsm2-util --import`: a
    /// test's known key, so that a token's signatures can be compared with
    /// the in-process key's.
    pub fn import(&self, object: &str, id: u8, pem: &[u8]) {
        let file = tempfile::NamedTempFile::new().expect("temporary key file");
        std::fs::write(file.path(), pem).expect("key file");
        let output = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &self.conf)
            .arg("--import")
            .arg(file.path())
            .args(["--token", TOKEN, "--label", object, "--pin", PIN])
            .args(["--id", &format!("{id:02x}")])
            .output()
            .expect("softhsm2-util runs");
        assert!(
            output.status.success(),
            "softhsm2-util --import: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// The module's path.
    pub fn module(&self) -> &Path {
        &self.module
    }

    fn set_up() -> Option<SoftHsm> {
        let module = std::env::var_os("ET_SOFTHSM2_MODULE")
            .map(PathBuf::from)
            .into_iter()
            .chain(MODULES.iter().map(PathBuf::from))
            .find(|p| p.exists())?;
        let dir = tempfile::tempdir().expect("temporary directory");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).expect("token directory");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("softhsm2.conf");
        let status = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", TOKEN])
            .args(["--pin", PIN, "--so-pin", SO_PIN])
            .output()
            .ok()?;
        assert!(
            status.status.success(),
            "softhsm2-util --init-token: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        // Read by the module in this process when it is first initialised
        // (et-crypto keeps it initialised); set before any thread loads it.
        std::env::set_var("SOFTHSM2_CONF", &conf);
        Some(SoftHsm {
            module,
            conf,
            _dir: dir,
        })
    }
}
