//! The file helpers: a voucher download against a local server (a PDF, one
//! too large, one too slow, an HTML page, an error status, a plain-HTTP
//! remote URL), and attachments read from disk.

use std::path::Path;
use std::time::Duration;

use et_http::{
    AttachmentFileError, TransportError, UploadAttachmentFromFile, VoucherDownloader, VoucherError,
    VoucherLimits,
};
use et_model::{AttachmentType, UploadAttachment, ATTACHMENT_MAX_BYTES};
use et_testkit::http::{reply, spawn_server};

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A server with one page per case.
async fn voucher_server() -> String {
    let (addr, _) = spawn_server(|request: http::Request<bytes::Bytes>| async move {
        match request.uri().path() {
            "/voucher.pdf" => reply(200, "application/pdf", PDF),
            "/big.pdf" => reply(200, "application/pdf", [PDF, &[b' '; 4096]].concat()),
            "/slow.pdf" => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                reply(200, "application/pdf", PDF)
            }
            "/page.pdf" => reply(200, "text/html", "<html>Please log in</html>"),
            _ => reply(404, "text/plain", "not found"),
        }
    })
    .await;
    format!("http://{addr}")
}

fn downloader() -> VoucherDownloader {
    let limits = VoucherLimits {
        max_bytes: 1024,
        timeout: Duration::from_millis(500),
    };
    VoucherDownloader::new(&limits).expect("downloader")
}

/// The names in `dir`: a failed download leaves no temporary file.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_voucher_is_saved_whole_and_a_failed_download_leaves_the_old_file_alone() {
    let base = voucher_server().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let dest = dir.path().join("voucher.pdf");
    let downloader = downloader();
    let size = downloader
        .download(&format!("{base}/voucher.pdf"), &dest)
        .await
        .expect("download");
    assert_eq!(size, PDF.len() as u64);
    assert_eq!(std::fs::read(&dest).expect("saved"), PDF);

    for (path, expected) in [
        ("/big.pdf", "too large"),
        ("/slow.pdf", "slow"),
        ("/page.pdf", "not a PDF"),
        ("/missing.pdf", "404"),
    ] {
        let got = downloader
            .download(&format!("{base}{path}"), &dest)
            .await
            .expect_err(path);
        let matched = match (&got, expected) {
            (
                VoucherError::Transport(TransportError::ResponseTooLarge { limit: 1024 }),
                "too large",
            )
            | (VoucherError::Transport(TransportError::Timeout { .. }), "slow")
            | (VoucherError::NotPdf, "not a PDF") => true,
            (VoucherError::Status(status), "404") => status.as_u16() == 404,
            _ => false,
        };
        assert!(matched, "{path}: {got:?}");
        assert_eq!(std::fs::read(&dest).expect("kept"), PDF, "{path}");
        assert_eq!(names(dir.path()), ["voucher.pdf"], "{path}");
    }
}

#[tokio::test]
async fn a_voucher_url_in_plain_http_to_a_remote_host_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let got = downloader()
        .download("http://static.et.example/v.pdf", &dir.path().join("v.pdf"))
        .await
        .expect_err("plain http");
    assert!(matches!(got, VoucherError::Url(_)), "{got:?}");
    assert!(names(dir.path()).is_empty());
}

#[test]
fn an_attachment_is_read_checked_by_its_first_bytes_and_encoded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, content: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).expect("write");
        path
    };
    let scan = write("offer.pdf", PDF);
    let upload = UploadAttachment::from_file("ET123", &scan, AttachmentType::OfferLetter)
        .expect("a PDF is taken");
    assert_eq!(upload.order_id, "ET123");
    assert_eq!(upload.file_name, "offer.pdf");
    assert_eq!(upload.attachment_type, AttachmentType::OfferLetter);
    assert_eq!(
        et_crypto::b64_decode(upload.base64.as_bytes()).expect("base64"),
        PDF
    );

    let png = write("selfie.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    assert!(UploadAttachment::from_file("ET123", &png, AttachmentType::StudentSelfie).is_ok());

    // Named .pdf, but an HTML page: the content decides.
    let html = write("fake.pdf", b"<html></html>");
    let got = UploadAttachment::from_file("ET123", &html, AttachmentType::OfferLetter);
    assert!(
        matches!(got, Err(AttachmentFileError::UnknownFormat)),
        "{got:?}"
    );

    let mut big = PDF.to_vec();
    big.resize(ATTACHMENT_MAX_BYTES + 1, b' ');
    let big = write("big.pdf", &big);
    let got = UploadAttachment::from_file("ET123", &big, AttachmentType::OfferLetter);
    assert!(
        matches!(got, Err(AttachmentFileError::TooLarge { .. })),
        "{got:?}"
    );

    let mut fits = PDF.to_vec();
    fits.resize(ATTACHMENT_MAX_BYTES, b' ');
    let fits = write("fits.pdf", &fits);
    assert!(UploadAttachment::from_file("ET123", &fits, AttachmentType::OfferLetter).is_ok());

    let missing = dir.path().join("missing.pdf");
    let got = UploadAttachment::from_file("ET123", &missing, AttachmentType::OfferLetter);
    assert!(matches!(got, Err(AttachmentFileError::Io(_))), "{got:?}");
}
