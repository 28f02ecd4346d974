//! [`run`]: a blocking call on a thread of its own, awaited as a future without blocking the
//! executor (how `start_all_async` starts sync states).
//!
//! Imports nothing from the crate (a base module, under `declared` and `start_all`).

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

struct Shared<R> {
    output: Option<std::thread::Result<R>>,
    waker: Option<Waker>,
}

/// Runs `call` on a new thread; the future ends with its result. A panic in `call` is
/// raised again where the future is polled.
pub(crate) fn run<R: Send + 'static>(
    call: impl FnOnce() -> R + Send + 'static,
) -> impl Future<Output = R> + Send {
    let shared = Arc::new(Mutex::new(Shared {
        output: None,
        waker: None,
    }));
    let theirs = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("lifecycle-start".into())
        .spawn(move || {
            let output = catch_unwind(AssertUnwindSafe(call));
            let mut shared = theirs.lock().unwrap_or_else(PoisonError::into_inner);
            shared.output = Some(output);
            let waker = shared.waker.take();
            drop(shared);
            waker.into_iter().for_each(Waker::wake);
        })
        .expect("spawn a start thread");
    Joined(shared)
}

struct Joined<R>(Arc<Mutex<Shared<R>>>);

impl<R> Future for Joined<R> {
    type Output = R;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        let mut shared = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match shared.output.take() {
            Some(Ok(output)) => Poll::Ready(output),
            Some(Err(panic)) => {
                drop(shared);
                resume_unwind(panic)
            }
            None => {
                shared.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
