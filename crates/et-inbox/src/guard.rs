//! The merchant's processing of one event, with a panic turned into a
//! failed attempt of that event, as et-http's webhook receiver turns a
//! handler's panic into a `FAIL` answer.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The processing panicked (its message went to the panic hook).
pub(crate) struct Panicked;

/// What `last_error` says of an attempt that panicked.
pub(crate) const PANICKED: &str = "the processing panicked";

/// Calls `start` and runs the future it returns, catching a panic in
/// either. The processing's state is reused for the next event after a
/// panic, hence `AssertUnwindSafe`: the crate docs ask the merchant not to
/// leave shared state broken. With `panic = "abort"` nothing is caught.
pub(crate) async fn guarded<Fut: Future>(
    start: impl FnOnce() -> Fut,
) -> Result<Fut::Output, Panicked> {
    let future = catch_unwind(AssertUnwindSafe(start)).map_err(|_| Panicked)?;
    CatchPanic(Box::pin(future)).await
}

struct CatchPanic<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchPanic<F> {
    type Output = Result<F::Output, Panicked>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(Err(Panicked)),
        }
    }
}
