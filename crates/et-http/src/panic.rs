//! Running a merchant's code so that its panic is one failed attempt, not
//! a lost connection or a stopped consumer: the webhook receiver answers
//! `FAIL` (ET delivers again), et-inbox counts one failed attempt.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The guarded code panicked (its message went to the panic hook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panicked;

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("panicked")
    }
}

impl std::error::Error for Panicked {}

/// Calls `start` and runs the future it returns, turning a panic in either
/// into [`Panicked`]. The caller's state is used again after a panic, hence
/// `AssertUnwindSafe`: a handler must not leave shared state broken. With
/// `panic = "abort"` nothing is caught.
///
/// ```
/// # tokio_test_block_on(async {
/// let ok = et_http::guarded(|| async { 1 }).await;
/// assert_eq!(ok, Ok(1));
/// let panicked = et_http::guarded(|| async { panic!("a bug") }).await;
/// assert_eq!(panicked, Err::<(), _>(et_http::Panicked));
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub async fn guarded<Fut: Future>(start: impl FnOnce() -> Fut) -> Result<Fut::Output, Panicked> {
    CatchPanic::start(start).await
}

pin_project_lite::pin_project! {
    /// A future whose panic is caught: [`Panicked`] instead of an unwinding
    /// poll. Held in place, not boxed, so wrapping a handler costs no
    /// allocation per request.
    pub(crate) struct CatchPanic<F> {
        // `None`: the call that was to return it panicked.
        #[pin]
        future: Option<F>,
    }
}

impl<F: Future> CatchPanic<F> {
    /// Calls `start` now, catching its panic too, and wraps its future.
    pub(crate) fn start(start: impl FnOnce() -> F) -> Self {
        Self {
            future: catch_unwind(AssertUnwindSafe(start)).ok(),
        }
    }
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Panicked>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(future) = self.project().future.as_pin_mut() else {
            return Poll::Ready(Err(Panicked));
        };
        match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(polled) => polled.map(Ok),
            Err(_) => Poll::Ready(Err(Panicked)),
        }
    }
}
