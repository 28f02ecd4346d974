//! `#[defstate(supervise(...), check = ..., interval = ...)]` on async statics, through the
//! public API: a task the start spawns fails the state and the restart runs on the test's
//! runtime (what it spawns survives), and a check — sync, or async (`|v| async move { .. }`)
//! — that fails twice, then passes.
//!
//! Apart from tests/supervise_async.rs: statics are listed in every `health()` report.

use lifecycle::Status;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

async fn eventually(what: &str, done: impl Fn() -> bool) {
    let began = std::time::Instant::now();
    while !done() {
        assert!(
            began.elapsed() < Duration::from_secs(5),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

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
    check = |value| match CHECKS_FAILING.load(Ordering::SeqCst) {
        0 => Ok(()),
        n => {
            CHECKS_FAILING.store(n - 1, Ordering::SeqCst);
            Err(format!("value {value}: check failed ({n} left)"))
        }
    },
    interval = "10ms"
)]
static CHECKED: u32 = async { 7 };

#[tokio::test(flavor = "current_thread")]
async fn an_async_static_restarts_on_its_failing_check_until_it_passes() {
    let restarts = || health("svc/checked").1;
    assert_eq!(*CHECKED.get().await, 7);
    eventually("two restarts", || restarts() == 2).await;
    eventually("ready again", || health("svc/checked").0).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(restarts(), 2, "the check passes now");
    assert_eq!(CHECKS_FAILING.load(Ordering::SeqCst), 0);
    assert_eq!(
        health("svc/checked").2.as_deref(),
        Some("its check failed: value 7: check failed (1 left)")
    );
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
        match PINGS_FAILING.load(Ordering::SeqCst) {
            0 => Ok(()),
            n => {
                PINGS_FAILING.store(n - 1, Ordering::SeqCst);
                Err(format!("link {} lost ({n} left)", *link))
            }
        }
    },
    interval = "10ms"
)]
static PINGED: u32 = async { 9 };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_check_on_an_async_static_fails_twice_then_passes() {
    let restarts = || health("svc/pinged").1;
    assert_eq!(*PINGED.get().await, 9);
    eventually("two restarts", || restarts() == 2).await;
    eventually("ready again", || health("svc/pinged").0).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert_eq!(restarts(), 2, "the check passes now");
    assert_eq!(PINGS_FAILING.load(Ordering::SeqCst), 0);
    assert_eq!(
        health("svc/pinged").2.as_deref(),
        Some("its check failed: link 9 lost (1 left)")
    );
    PINGED.stop().await.unwrap();
}
