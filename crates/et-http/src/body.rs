//! Reading an HTTP body into memory with a hard size limit, shared by the
//! client (ET's responses) and the webhook receiver (ET's notifications).

use std::fmt;

use std::future::poll_fn;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use hyper::body::Body;

/// A boxed error, as hyper and tower pass them around.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A body that can cross tasks: `Send`, its chunks `Send`, its errors
/// boxable. Implemented for every such body; named in bounds (of
/// [`serve_with`](crate::serve_with) and the
/// [`WebhookReceiver`](crate::WebhookReceiver)'s services).
pub trait SendBody: Body<Data: Send, Error: Into<BoxError>> + Send + 'static {}

impl<B> SendBody for B where B: Body<Data: Send, Error: Into<BoxError>> + Send + 'static {}

/// Why a body could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is (or announced itself as) longer than the limit; reading
    /// stopped at the limit, so an endless stream cannot exhaust memory.
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// The peer broke off or sent malformed framing while the body was read.
    Read(BoxError),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "body longer than the {limit}-byte limit"),
            Self::Read(e) => write!(f, "body could not be read: {e}"),
        }
    }
}

impl std::error::Error for BodyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::TooLarge { .. } => None,
            Self::Read(e) => Some(e.as_ref()),
        }
    }
}

/// Reads `body` whole into one buffer, failing before reading when it
/// announces more than `limit` bytes (its size hint: hyper's is the
/// `Content-Length`) and as soon as more than `limit` bytes arrived (an
/// endless stream cannot exhaust memory). A body of one chunk is kept as
/// it came, without a copy; one of several is joined in a buffer of the
/// announced size. Trailers are ignored.
pub(crate) async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let too_large = || BodyError::TooLarge { limit };
    let announced = usize::try_from(body.size_hint().lower()).unwrap_or(usize::MAX);
    if announced > limit {
        return Err(too_large());
    }
    let mut body = std::pin::pin!(body);
    let mut first = Bytes::new();
    let mut joined = BytesMut::new();
    while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let frame = frame.map_err(|e| BodyError::Read(e.into()))?;
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let read = first.len() + joined.len();
        if data.remaining() > limit - read {
            return Err(too_large());
        }
        if read == 0 {
            first = data.copy_to_bytes(data.remaining());
        } else {
            if joined.is_empty() {
                joined.reserve(announced.max(read + data.remaining()));
                joined.extend_from_slice(&std::mem::take(&mut first));
            }
            joined.put(data);
        }
    }
    Ok(if joined.is_empty() {
        first
    } else {
        joined.freeze()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;
    use hyper::body::Frame;

    #[tokio::test]
    async fn reads_up_to_the_limit() {
        let body = Full::new(Bytes::from_static(b"0123456789"));
        assert_eq!(&read_limited(body, 10).await.unwrap()[..], b"0123456789");
    }

    #[tokio::test]
    async fn stops_one_byte_past_the_limit() {
        let body = Full::new(Bytes::from_static(b"0123456789"));
        let err = read_limited(body, 9).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { limit: 9 }));
    }

    /// A body that never ends.
    struct Endless;

    impl Body for Endless {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[b'x'; 4096])))))
        }
    }

    #[tokio::test]
    async fn cuts_off_an_endless_stream() {
        let err = read_limited(Endless, 1 << 16).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { limit: 65536 }));
    }

    /// A body delivered in the given chunks, announcing `announced` bytes
    /// (as a `Content-Length` does) if some.
    struct Chunks {
        chunks: std::collections::VecDeque<Bytes>,
        announced: Option<u64>,
    }

    impl Body for Chunks {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(self.chunks.pop_front().map(|chunk| Ok(Frame::data(chunk))))
        }

        fn size_hint(&self) -> hyper::body::SizeHint {
            self.announced
                .map(hyper::body::SizeHint::with_exact)
                .unwrap_or_default()
        }
    }

    proptest::proptest! {
        #[test]
        fn any_chunking_reads_whole_or_fails_past_the_limit(
            chunks in proptest::collection::vec(proptest::collection::vec(0u8.., 0..64), 0..16),
            limit in 0usize..600,
        ) {
            let whole: Vec<u8> = chunks.concat();
            let body = Chunks {
                chunks: chunks.into_iter().map(Bytes::from).collect(),
                announced: None,
            };
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            match runtime.block_on(read_limited(body, limit)) {
                Ok(read) => {
                    proptest::prop_assert!(whole.len() <= limit);
                    proptest::prop_assert_eq!(&read[..], &whole[..]);
                }
                Err(e) => {
                    proptest::prop_assert!(whole.len() > limit);
                    let too_large = matches!(e, BodyError::TooLarge { .. });
                    proptest::prop_assert!(too_large, "unexpected error: {}", e);
                }
            }
        }
    }

    #[tokio::test]
    async fn an_announced_length_over_the_limit_is_refused_before_reading() {
        let announcing = |announced| Chunks {
            chunks: [Bytes::from_static(b"0123456789")].into(),
            announced: Some(announced),
        };
        let err = read_limited(announcing(11), 10).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { limit: 10 }));
        assert_eq!(
            &read_limited(announcing(10), 10).await.unwrap()[..],
            b"0123456789"
        );
    }

    #[tokio::test]
    async fn a_single_chunk_is_kept_without_a_copy() {
        let chunk = Bytes::from_static(b"0123456789");
        let read = read_limited(Full::new(chunk.clone()), 10).await.unwrap();
        assert_eq!(read.as_ptr(), chunk.as_ptr());
    }
}
