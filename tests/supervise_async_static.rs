//! `#[defstate(supervise(...), check = ..., interval = ...)]` on async statics, through the
//! public API: a task the start spawns fails the state and the restart runs on the test's
//! runtime (what it spawns survives), and a check — sync, or async (`|v| async move { .. }`)
//! — that fails twice, then passes.
//!
//! Apart from tests/supervise_async.rs: statics are listed in every `health()` report.

mod common;

use common::countdown::fail_while_left;
use common::eventually::eventually;
use lifecycle::Status;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The health of the state `name`: (ready, restarts, last error).
fn health(name: &str) -> (bool, u32, Option<String>) {
    let report = lifecycle::health_of(&[name]);
    let state = report
        .states
        .iter()
        .find(|state| state.name == name)
        .unwrap_or_else(|| panic!("{name} in {report}"));
    (report.ready, state.restarts, state.last_error.clone())
}

/// Waits for the two restarts of `name` that its check (failing while `left` lasts) causes,
/// and for it to be ready again; then no restart follows (the check passes now), `left` is
/// used up and the last error is `last_error`.
async fn restarts_twice_then_passes(name: &str, left: &AtomicUsize, last_error: &str) {
    let restarts = || health(name).1;
    eventually("two restarts", || restarts() == 2).await;
    eventually("ready again", || health(name).0).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(restarts(), 2, "the check passes now");
    assert_eq!(left.load(Ordering::SeqCst), 0);
    assert_eq!(health(name).2.as_deref(), Some(last_error));
}

/// Starts of `SPAWNER`; each start spawns a task that fails the state when its value is
/// notified.
static SPAWNS: AtomicUsize = AtomicUsize::new(0);

#[lifecycle::defstate(
    name = "svc/spawner",
    supervise(backoff = "5ms..20ms", max_restarts = 5, within = "60s")
)]
static SPAWNER: Arc<Notify> = async {
    SPAWNS.fetch_add(1, Ordering::SeqCst);
    let kill = Arc::new(Notify::new());
    let killed = Arc::clone(&kill);
    // The handle of this realization; the task needs a runtime: the start runs on one.
    let fail = SPAWNER.fail_handle();
    tokio::spawn(async move {
        killed.notified().await;
        fail.fail("the spawned task ended");
    });
    kill
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervised_async_static_restarts_on_its_runtime() {
    let ready = || health("svc/spawner").0;
    SPAWNER.get().await.notify_one();
    eventually("the first restart", || {
        SPAWNS.load(Ordering::SeqCst) == 2 && ready()
    })
    .await;
    // The task the restart spawned runs (it would not on a runtime of its own that ended).
    SPAWNER.get().await.notify_one();
    eventually("the second restart", || {
        SPAWNS.load(Ordering::SeqCst) == 3 && ready()
    })
    .await;
    let (_, restarts, last_error) = health("svc/spawner");
    assert_eq!(restarts, 2);
    assert_eq!(last_error.as_deref(), Some("the spawned task ended"));
    SPAWNER.stop().await.unwrap();
}

static CHECKS_FAILING: AtomicUsize = AtomicUsize::new(2);

#[lifecycle::defstate(
    name = "svc/checked",
    supervise(backoff = "5ms..20ms"),
    check = |value| fail_while_left(&CHECKS_FAILING, |n| {
        format!("value {value}: check failed ({n} left)")
    }),
    interval = "10ms"
)]
static CHECKED: u32 = async { 7 };

#[tokio::test(flavor = "current_thread")]
async fn an_async_static_restarts_on_its_failing_check_until_it_passes() {
    assert_eq!(*CHECKED.get().await, 7);
    restarts_twice_then_passes(
        "svc/checked",
        &CHECKS_FAILING,
        "its check failed: value 7: check failed (1 left)",
    )
    .await;
    assert_eq!(CHECKED.status(), Status::Realized);
    CHECKED.stop().await.unwrap();
}

static PINGS_FAILING: AtomicUsize = AtomicUsize::new(2);

/// A link whose check awaits (a tokio timer: it runs on the state's runtime).
#[lifecycle::defstate(
    name = "svc/pinged",
    supervise(backoff = "5ms..20ms"),
    check = |link| async move {
        tokio::time::sleep(Duration::from_millis(1)).await;
        fail_while_left(&PINGS_FAILING, |n| format!("link {} lost ({n} left)", *link))
    },
    interval = "10ms"
)]
static PINGED: u32 = async { 9 };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_check_on_an_async_static_fails_twice_then_passes() {
    assert_eq!(*PINGED.get().await, 9);
    restarts_twice_then_passes(
        "svc/pinged",
        &PINGS_FAILING,
        "its check failed: link 9 lost (1 left)",
    )
    .await;
    PINGED.stop().await.unwrap();
}
