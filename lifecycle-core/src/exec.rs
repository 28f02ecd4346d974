//! Runtime-agnostic future helpers: a timer, a timeout, panic catching, and a small `block_on`.
//!
//! The core must not pick an async runtime for its users, yet async stops need timeouts and
//! sync callers (`lifecycle::stop()`, dropping a local async state) must be able to drive an
//! async stop to its end. Everything here works under tokio, async-std, smol or no runtime at
//! all: timers are served by one lazily spawned thread that only wakes wakers, and `block_on`
//! parks the calling thread.
//!
//! Imports `error` (only its tests); must not import `kernel` or anything else above the base
//! modules.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::{pin, Pin};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// The timer thread's queue: wakers by deadline (ids break ties).
struct Timers {
    entries: BTreeMap<(Instant, u64), Waker>,
    next_id: u64,
    thread_started: bool,
}

static TIMERS: Mutex<Timers> = Mutex::new(Timers {
    entries: BTreeMap::new(),
    next_id: 0,
    thread_started: false,
});
static TIMERS_CHANGED: Condvar = Condvar::new();

fn timers() -> MutexGuard<'static, Timers> {
    // No user code runs under this lock (wakers are woken after it is released).
    TIMERS.lock().unwrap_or_else(PoisonError::into_inner)
}

fn run_timers() {
    let mut timers = timers();
    loop {
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(entry) = timers.entries.first_entry() {
            if entry.key().0 > now {
                break;
            }
            due.push(entry.remove());
        }
        if !due.is_empty() {
            drop(timers);
            due.into_iter().for_each(Waker::wake);
            timers = self::timers();
            continue;
        }
        let next = timers.entries.first_key_value().map(|((at, _), _)| *at);
        timers = match next {
            Some(at) => {
                TIMERS_CHANGED
                    .wait_timeout(timers, at.saturating_duration_since(now))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
            None => TIMERS_CHANGED
                .wait(timers)
                .unwrap_or_else(PoisonError::into_inner),
        };
    }
}

/// A future that is ready at `deadline`.
#[derive(Debug)]
pub(crate) struct Sleep {
    deadline: Instant,
    id: Option<u64>,
}

pub(crate) fn sleep(duration: Duration) -> Sleep {
    sleep_until(Instant::now() + duration)
}

pub(crate) fn sleep_until(deadline: Instant) -> Sleep {
    Sleep { deadline, id: None }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            self.cancel();
            return Poll::Ready(());
        }
        let mut timers = timers();
        if let Some(id) = self.id {
            if let Some(waker) = timers.entries.get_mut(&(self.deadline, id)) {
                waker.clone_from(cx.waker());
                return Poll::Pending;
            }
        }
        let id = timers.next_id;
        timers.next_id += 1;
        timers
            .entries
            .insert((self.deadline, id), cx.waker().clone());
        self.id = Some(id);
        let earliest = timers.entries.first_key_value().map(|(key, _)| key.1) == Some(id);
        if !timers.thread_started {
            // If the thread cannot be spawned, `wake_on_failure` still wakes the task so it
            // polls again (a busy wait, but never a hang).
            timers.thread_started = std::thread::Builder::new()
                .name("lifecycle-timer".into())
                .spawn(run_timers)
                .is_ok();
            if !timers.thread_started {
                cx.waker().wake_by_ref();
            }
        } else if earliest {
            TIMERS_CHANGED.notify_one();
        }
        Poll::Pending
    }
}

impl Sleep {
    fn cancel(&mut self) {
        if let Some(id) = self.id.take() {
            let waker = timers().entries.remove(&(self.deadline, id));
            drop(waker);
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// `future`, or `None` if it is not ready by `deadline` (then it is dropped).
pub(crate) async fn timeout_at<F: Future>(deadline: Instant, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut sleep = sleep_until(deadline);
    std::future::poll_fn(move |cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        Pin::new(&mut sleep).poll(cx).map(|()| None)
    })
    .await
}

/// Polls `future`, turning a panic inside any of its polls into `Err(payload)`.
pub(crate) async fn catch_unwind_future<F: Future>(
    future: F,
) -> Result<F::Output, Box<dyn std::any::Any + Send>> {
    let mut future = pin!(future);
    std::future::poll_fn(move |cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await
}

struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` on this thread until it is ready or `timeout` passes (then it is dropped and
/// the result is `None`).
///
/// For sync callers only. Called on a thread of an async runtime, it blocks that thread, so a
/// future that needs that very thread (a single-threaded runtime) only ends at the timeout.
pub(crate) fn block_on<F: Future>(future: F, timeout: Duration) -> Option<F::Output> {
    let deadline = Instant::now().checked_add(timeout);
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return Some(output);
        }
        match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                std::thread::park_timeout(left);
            }
            None => std::thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_and_timeout_work_without_a_runtime() {
        let began = Instant::now();
        assert_eq!(
            block_on(sleep(Duration::from_millis(30)), Duration::from_secs(30)),
            Some(())
        );
        assert!(began.elapsed() >= Duration::from_millis(30));

        let slow = timeout_at(
            Instant::now() + Duration::from_millis(20),
            sleep(Duration::from_secs(60)),
        );
        assert_eq!(block_on(slow, Duration::from_secs(30)), Some(None));
        let fast = timeout_at(Instant::now() + Duration::from_secs(60), async { 7 });
        assert_eq!(block_on(fast, Duration::from_secs(30)), Some(Some(7)));
    }

    #[test]
    fn block_on_gives_up_at_its_timeout() {
        let never = std::future::pending::<()>();
        assert_eq!(block_on(never, Duration::from_millis(20)), None);
    }

    #[test]
    fn a_panicking_poll_is_caught() {
        let caught: Result<(), _> = block_on(
            catch_unwind_future(async { panic!("boom") }),
            Duration::from_secs(30),
        )
        .unwrap();
        let payload = caught.unwrap_err();
        assert_eq!(crate::error::panic_message(&*payload), "boom");
    }

    #[test]
    fn many_sleepers_all_wake_in_deadline_order() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..8_u64)
            .rev()
            .map(|i| {
                let order = Arc::clone(&order);
                std::thread::spawn(move || {
                    block_on(
                        sleep(Duration::from_millis(20 * i)),
                        Duration::from_secs(60),
                    )
                    .unwrap();
                    order.lock().unwrap().push(i);
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(order.lock().unwrap().len(), 8);
    }
}
