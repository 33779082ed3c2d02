//! What an attachment file may be: the formats taken, told by their first
//! bytes, and the size bound. ET's pages name neither (spec
//! `03-operations.md` §2, "file formats / size limits: not seen"); these are
//! our choice, written here once.

/// The largest attachment file taken: 10 MiB, whose Base64 (13.4 MiB)
/// still fits a request body under the sandbox's 20 MiB limit.
pub const ATTACHMENT_MAX_BYTES: usize = 10 << 20;

/// A file format taken as an attachment: documents are scans or photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachmentFormat {
    /// PDF (`%PDF-`).
    Pdf,
    /// JPEG (`FF D8 FF`).
    Jpeg,
    /// PNG (`89 50 4E 47 0D 0A 1A 0A`).
    Png,
}

impl AttachmentFormat {
    /// Every format taken.
    pub const ALL: [AttachmentFormat; 3] = [Self::Pdf, Self::Jpeg, Self::Png];

    /// The bytes a file of this format starts with.
    pub fn magic(self) -> &'static [u8] {
        match self {
            Self::Pdf => b"%PDF-",
            Self::Jpeg => &[0xFF, 0xD8, 0xFF],
            Self::Png => &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
        }
    }

    /// The format `content` is in, by its first bytes; `None` for any
    /// other content (whatever its file name says).
    pub fn sniff(content: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|format| content.starts_with(format.magic()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_format_is_told_by_its_first_bytes_only() {
        assert_eq!(
            AttachmentFormat::sniff(b"%PDF-1.7\n"),
            Some(AttachmentFormat::Pdf)
        );
        assert_eq!(
            AttachmentFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(AttachmentFormat::Jpeg)
        );
        assert_eq!(
            AttachmentFormat::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(AttachmentFormat::Png)
        );
        for other in [
            &b""[..],
            b"%PDF",
            b" %PDF-1.7",
            b"GIF89a",
            b"PK\x03\x04",
            b"\x89PNG\n",
        ] {
            assert_eq!(AttachmentFormat::sniff(other), None, "{other:?}");
        }
    }
}
