//! Files every integration handles: the remittance voucher ET links to
//! (downloaded with bounds, checked to be a PDF, saved atomically), and an
//! attachment read from disk for `upload_attachment`. They live here, not
//! in et-model, because they do I/O.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use et_model::{AttachmentFormat, AttachmentType, UploadAttachment, ATTACHMENT_MAX_BYTES};

use crate::endpoint::EndpointError;
use crate::transport::{Transport, TransportConfig, TransportError};
use crate::Endpoint;

/// Bounds of a voucher download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoucherLimits {
    /// Largest voucher accepted. Default 20 MiB.
    pub max_bytes: usize,
    /// Time for the whole download, connecting included. Default 60 s.
    pub timeout: Duration,
}

impl Default for VoucherLimits {
    fn default() -> Self {
        VoucherLimits {
            max_bytes: 20 << 20,
            timeout: Duration::from_secs(60),
        }
    }
}

/// Downloads remittance vouchers (the `remittance_voucher_url` of ET's
/// voucher notification). Cheap to clone; keeps its connections.
#[derive(Debug, Clone)]
pub struct VoucherDownloader {
    transport: Transport,
}

impl VoucherDownloader {
    /// A downloader trusting the bundled Mozilla roots.
    pub fn new(limits: &VoucherLimits) -> Result<Self, TransportError> {
        Ok(VoucherDownloader {
            transport: Transport::new(transport_config(limits))?,
        })
    }

    /// A downloader with its own TLS configuration (a private CA, the
    /// sandbox's certificate).
    pub fn with_tls_config(tls: rustls::ClientConfig, limits: &VoucherLimits) -> Self {
        VoucherDownloader {
            transport: Transport::with_tls_config(tls, transport_config(limits)),
        }
    }

    /// Downloads the voucher at `url` into `dest`, and returns its size.
    ///
    /// `url` must be HTTPS (plain HTTP only to loopback, as for ET's
    /// endpoint). The answer must be a 2xx within the limits and start
    /// with `%PDF-`. It is written to a temporary file beside `dest`,
    /// flushed to disk, and renamed over `dest`: `dest` is either the old
    /// file or the whole new voucher, never a part, and nothing is left
    /// behind on failure.
    pub async fn download(&self, url: &str, dest: &Path) -> Result<u64, VoucherError> {
        let endpoint = Endpoint::parse(url).map_err(VoucherError::Url)?;
        let reply = self
            .transport
            .get(endpoint.uri())
            .await
            .map_err(VoucherError::Transport)?;
        if !reply.status.is_success() {
            return Err(VoucherError::Status(reply.status));
        }
        if AttachmentFormat::sniff(&reply.body) != Some(AttachmentFormat::Pdf) {
            return Err(VoucherError::NotPdf);
        }
        let dest = dest.to_owned();
        let size = reply.body.len() as u64;
        tokio::task::spawn_blocking(move || save_atomically(&dest, &reply.body))
            .await
            .map_err(|e| VoucherError::Io(std::io::Error::other(e)))?
            .map_err(VoucherError::Io)?;
        Ok(size)
    }
}

fn transport_config(limits: &VoucherLimits) -> TransportConfig {
    TransportConfig {
        connect_timeout: limits.timeout,
        request_timeout: limits.timeout,
        max_response_bytes: limits.max_bytes,
        ..TransportConfig::default()
    }
}

/// Writes `content` to a temporary file in `dest`'s directory, syncs it,
/// renames it to `dest` and syncs the directory.
fn save_atomically(dest: &Path, content: &[u8]) -> std::io::Result<()> {
    let dir = match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(content)?;
    file.as_file().sync_all()?;
    file.persist(dest).map_err(|e| e.error)?;
    // The rename itself is durable once the directory is synced (Unix).
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Why a voucher was not saved.
#[derive(Debug)]
#[non_exhaustive]
pub enum VoucherError {
    /// The URL is not one to download from (malformed, not HTTPS).
    Url(EndpointError),
    /// The download failed: connection, timeout, or longer than the limit.
    Transport(TransportError),
    /// The server answered with a status other than 2xx.
    Status(http::StatusCode),
    /// The content does not start with `%PDF-`.
    NotPdf,
    /// Writing the file failed.
    Io(std::io::Error),
}

impl fmt::Display for VoucherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(_) => f.write_str("the voucher URL is not one to download from"),
            Self::Transport(_) => f.write_str("the voucher download failed"),
            Self::Status(status) => write!(f, "the voucher server answered HTTP {status}"),
            Self::NotPdf => f.write_str("the voucher is not a PDF (no %PDF- at its start)"),
            Self::Io(_) => f.write_str("the voucher could not be saved"),
        }
    }
}

impl std::error::Error for VoucherError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Url(e) => Some(e),
            Self::Transport(e) => Some(e),
            Self::Io(e) => Some(e),
            Self::Status(_) | Self::NotPdf => None,
        }
    }
}

/// [`UploadAttachment::from_file`]: an attachment read from disk. A trait
/// because et-model, where `UploadAttachment` lives, does no I/O.
pub trait UploadAttachmentFromFile: Sized {
    /// Reads the file at `path` (at most [`ATTACHMENT_MAX_BYTES`]), checks
    /// by its first bytes that it is a format ET is sent
    /// ([`AttachmentFormat`]: PDF, JPEG, PNG), and encodes it as the upload
    /// of a `kind` document for order `order_id`, under the file's name.
    /// It reads the file on the calling thread (in async code, call it
    /// through `spawn_blocking`).
    fn from_file(
        order_id: &str,
        path: &Path,
        kind: AttachmentType,
    ) -> Result<Self, AttachmentFileError>;
}

impl UploadAttachmentFromFile for UploadAttachment {
    fn from_file(
        order_id: &str,
        path: &Path,
        kind: AttachmentType,
    ) -> Result<Self, AttachmentFileError> {
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or(AttachmentFileError::FileName)?
            .to_owned();
        let mut content = Vec::new();
        std::fs::File::open(path)
            .map_err(AttachmentFileError::Io)?
            // One byte more than allowed tells "too large" from "just fits".
            .take(ATTACHMENT_MAX_BYTES as u64 + 1)
            .read_to_end(&mut content)
            .map_err(AttachmentFileError::Io)?;
        if content.len() > ATTACHMENT_MAX_BYTES {
            return Err(AttachmentFileError::TooLarge {
                limit: ATTACHMENT_MAX_BYTES,
            });
        }
        if AttachmentFormat::sniff(&content).is_none() {
            return Err(AttachmentFileError::UnknownFormat);
        }
        Ok(UploadAttachment {
            order_id: order_id.to_owned(),
            attachment_type: kind,
            base64: et_crypto::b64_encode(&content),
            file_name,
            extra: Default::default(),
        })
    }
}

/// Why a file was not made an attachment.
#[derive(Debug)]
#[non_exhaustive]
pub enum AttachmentFileError {
    /// The path has no file name, or one that is not UTF-8 (ET is sent the
    /// name as JSON text).
    FileName,
    /// The file could not be read.
    Io(std::io::Error),
    /// The file is larger than the limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The content is none of the formats taken ([`AttachmentFormat`]).
    UnknownFormat,
}

impl fmt::Display for AttachmentFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FileName => f.write_str("the attachment path has no UTF-8 file name"),
            Self::Io(_) => f.write_str("the attachment file could not be read"),
            Self::TooLarge { limit } => {
                write!(f, "the attachment file is larger than {limit} bytes")
            }
            Self::UnknownFormat => {
                f.write_str("the attachment is not a PDF, JPEG or PNG (by its first bytes)")
            }
        }
    }
}

impl std::error::Error for AttachmentFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            _ => None,
        }
    }
}
