//! `et sandbox serve --tls`: the sandbox's certificate, self-signed for
//! `localhost`, `127.0.0.1` and `::1` (and the listen address, when it is
//! a specific one), made once into the state directory and reused at each
//! start, so a client trusts it once ([`TLS_CERT_PEM`] as an extra root).
//! Replace both files with another certificate and key to serve other names.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use zeroize::Zeroizing;

use crate::config::SandboxDir;
use crate::files::{self, Existing};
use crate::Error;

/// The sandbox's TLS certificate (PEM), to trust as a root.
pub const TLS_CERT_PEM: &str = "tls-cert.pem";
/// Its private key (PKCS#8 PEM, 0600).
pub const TLS_KEY_PEM: &str = "tls-key.pem";

/// The certificate (PEM text) and the server configuration serving it,
/// made and saved first if the directory has none.
pub(crate) fn server_config(
    dir: &SandboxDir,
    listen: IpAddr,
) -> Result<(String, Arc<rustls::ServerConfig>), Error> {
    let (cert_path, key_path) = (dir.file(TLS_CERT_PEM), dir.file(TLS_KEY_PEM));
    if !cert_path.exists() && !key_path.exists() {
        generate(&cert_path, &key_path, listen)?;
    }
    let cert_pem = files::read_file_bounded(&cert_path, files::MAX_KEY_FILE)
        .map_err(|e| Error::io(&cert_path, e))?;
    let key_pem = Zeroizing::new(
        files::read_file_bounded(&key_path, files::MAX_KEY_FILE)
            .map_err(|e| Error::io(&key_path, e))?,
    );
    let bad = |path: &Path, reason: &str| Error::Config {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|chain| !chain.is_empty())
        .ok_or_else(|| bad(&cert_path, "no PEM certificate"))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| bad(&key_path, "no PEM private key"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| bad(&cert_path, &format!("not usable with its key: {e}")))?;
    let text = String::from_utf8(cert_pem).map_err(|_| bad(&cert_path, "not PEM text"))?;
    Ok((text, Arc::new(config)))
}

/// A fresh ECDSA P-256 key and a certificate for the loopback names and
/// `listen`, written as PEM (the key 0600); existing files are never
/// overwritten.
fn generate(cert_path: &Path, key_path: &Path, listen: IpAddr) -> Result<(), Error> {
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if !listen.is_unspecified() && !listen.is_loopback() {
        names.push(listen.to_string());
    }
    let failed = |e: rcgen::Error| Error::Config {
        path: cert_path.to_owned(),
        reason: format!("cannot make the TLS certificate: {e}"),
    };
    let mut params = rcgen::CertificateParams::new(names).map_err(failed)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "et-rs sandbox");
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;
    let key_pem = Zeroizing::new(key.serialize_pem());
    let write = |path: &Path, bytes: &[u8], mode| {
        files::write_atomically(path, bytes, mode, Existing::Refuse).map_err(|e| Error::io(path, e))
    };
    write(key_path, key_pem.as_bytes(), files::OWNER_ONLY)?;
    write(cert_path, cert.pem().as_bytes(), files::PUBLIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_certificate_is_made_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dir = SandboxDir::new(dir.path());
        let loopback = IpAddr::from([127, 0, 0, 1]);
        let (first, _) = server_config(&dir, loopback).expect("made");
        let (again, _) = server_config(&dir, loopback).expect("reused");
        assert_eq!(first, again);
        assert!(first.starts_with("-----BEGIN CERTIFICATE-----"), "{first}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.file(TLS_KEY_PEM))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_damaged_certificate_is_a_config_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dir = SandboxDir::new(dir.path());
        server_config(&dir, IpAddr::from([127, 0, 0, 1])).expect("made");
        std::fs::write(dir.file(TLS_CERT_PEM), "garbage").expect("write");
        assert!(matches!(
            server_config(&dir, IpAddr::from([127, 0, 0, 1])),
            Err(Error::Config { .. })
        ));
    }
}
