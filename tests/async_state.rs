//! `AsyncState<T>` on a multi-threaded tokio runtime: exactly-once start under races, waiting
//! without blocking threads, failed/panicking/cancelled starts retried, cycles across tasks,
//! stop waiting for guards held across `.await`s in spawned tasks, dependencies and status.

mod common;

use common::{runtime, Log};
use lifecycle::{AsyncRef, AsyncState, Error, State};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// Generous: the machine is shared and loaded; a hang fails the test instead of blocking it.
const LIMIT: Duration = Duration::from_secs(60);

async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(LIMIT, future)
        .await
        .expect("the test did not finish in time (a hang?)")
}

fn counted(name: &'static str, starts: &Arc<AtomicUsize>, delay: Duration) -> AsyncState<usize> {
    let starts = Arc::clone(starts);
    AsyncState::new(name, move || {
        let starts = Arc::clone(&starts);
        async move {
            tokio::time::sleep(delay).await;
            Ok::<_, Error>(starts.fetch_add(1, Ordering::SeqCst) + 1)
        }
    })
}

/// A state whose start counts its attempts in `attempts`, yields, and lets `outcome` decide
/// from the attempt's number (the first is 1).
fn by_attempt<T: Send + Sync + 'static, E: Into<lifecycle::BoxError> + 'static>(
    name: &'static str,
    attempts: &Arc<AtomicUsize>,
    outcome: fn(usize) -> Result<T, E>,
) -> AsyncState<T> {
    let attempts = Arc::clone(attempts);
    AsyncState::new(name, move || {
        let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            tokio::task::yield_now().await;
            outcome(attempt)
        }
    })
}

/// A task that reads `state` and copies its value out.
fn spawn_get<T: Copy + Send + Sync + 'static>(
    state: &Arc<AsyncState<T>>,
) -> tokio::task::JoinHandle<T> {
    let state = Arc::clone(state);
    tokio::spawn(async move { *state.get().await })
}

/// Races `tasks` tasks on the first `get` of a [`counted`] state: each must see value 1.
async fn all_tasks_get_the_first_value(state: &Arc<AsyncState<usize>>, tasks: usize) {
    let tasks: Vec<_> = (0..tasks).map(|_| spawn_get(state)).collect();
    for task in tasks {
        assert_eq!(bounded(task).await.unwrap(), 1);
    }
}

#[test]
fn guards_are_send_and_static() {
    fn assert_send_static<T: Send + Sync + 'static>() {}
    assert_send_static::<AsyncRef<String>>();
    assert_send_static::<AsyncState<String>>();
    fn assert_send<T: Send>(_: &T) {}
    let state = AsyncState::new("send::future", || async { Ok::<_, Error>(1) });
    assert_send(&state.get());
    assert_send(&state.try_get());
    assert_send(&state.stop());
    assert_send(&lifecycle::stop_async());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_racing_the_first_get_start_it_exactly_once() {
    let starts = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(counted("race::once", &starts, Duration::from_millis(50)));
    all_tasks_get_the_first_value(&state, 64).await;
    assert_eq!(starts.load(Ordering::SeqCst), 1);
    assert!(state.is_realized());
    bounded(state.stop()).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn waiters_await_a_notification_and_never_block_the_thread() {
    // One thread for everything: a waiter that blocked it would also block the start.
    let starts = Arc::new(AtomicUsize::new(0));
    let state = Arc::new(counted(
        "race::one-thread",
        &starts,
        Duration::from_millis(100),
    ));
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let ticks = Arc::clone(&ticks);
        tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(10)).await;
                ticks.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    all_tasks_get_the_first_value(&state, 32).await;
    bounded(ticker).await.unwrap();
    assert_eq!(ticks.load(Ordering::SeqCst), 5);
    assert_eq!(starts.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_start_leaves_it_unrealized_and_the_next_get_retries() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let state = by_attempt("retry::failing", &attempts, |attempt| {
        if attempt < 3 {
            Err(format!("database not ready (attempt {attempt})"))
        } else {
            Ok(attempt)
        }
    });
    for attempt in 1..3 {
        let error = bounded(state.try_get()).await.map(|_| ()).unwrap_err();
        assert!(matches!(error, Error::Start { .. }), "{error:?}");
        assert_eq!(error.state(), Some("retry::failing"));
        assert!(
            error
                .to_string()
                .contains(&format!("database not ready (attempt {attempt})")),
            "{error}"
        );
        assert!(!state.is_realized());
        assert!(state.peek().is_none());
    }
    assert_eq!(*bounded(state.get()).await, 3);
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_start_is_an_error_and_the_state_stays_usable() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let state = by_attempt("retry::panicking", &attempts, |attempt| {
        assert!(attempt > 1, "the first start explodes");
        Ok::<_, Error>("ok")
    });
    let error = bounded(state.try_get()).await.map(|_| ()).unwrap_err();
    assert!(matches!(error, Error::StartPanicked { .. }), "{error:?}");
    assert!(error.to_string().contains("the first start explodes"));
    assert_eq!(*bounded(state.get()).await, "ok");

    // A panic in the sync part of the start function (before its future) is caught too.
    let sync_panic = AsyncState::new(
        "retry::sync-part",
        || -> std::future::Ready<Result<u8, Error>> { panic!("no future for you") },
    );
    let error = bounded(sync_panic.try_get()).await.map(|_| ()).unwrap_err();
    assert!(error.to_string().contains("no future for you"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_panics_with_the_name_and_the_cause() {
    let state = Arc::new(AsyncState::new("panics::get", || async {
        Err::<u8, _>("no config file")
    }));
    let task = spawn_get(&state);
    let payload = bounded(task).await.unwrap_err().into_panic();
    let message = payload.downcast_ref::<String>().unwrap();
    assert!(message.contains("panics::get"), "{message}");
    assert!(message.contains("no config file"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_start_hands_over_to_a_waiting_task() {
    let starts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&starts);
    let state = Arc::new(AsyncState::new("cancel::start", move || {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            if n == 1 {
                std::future::pending::<()>().await; // the first start never ends by itself
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok::<_, Error>(n)
        }
    }));
    let first = spawn_get(&state);
    while starts.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let waiter = spawn_get(&state);
    tokio::time::sleep(Duration::from_millis(50)).await;
    first.abort();
    assert!(bounded(first).await.unwrap_err().is_cancelled());
    assert_eq!(bounded(waiter).await.unwrap(), 2);
    assert_eq!(starts.load(Ordering::SeqCst), 2);

    // A get abandoned by a timeout while waiting leaves nothing behind either.
    bounded(state.stop()).await.unwrap();
    let slow = Arc::new(counted(
        "cancel::wait",
        &Arc::new(AtomicUsize::new(0)),
        Duration::from_millis(200),
    ));
    let starter = spawn_get(&slow);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(tokio::time::timeout(Duration::from_millis(10), slow.get())
        .await
        .is_err());
    assert_eq!(bounded(starter).await.unwrap(), 1);
    assert_eq!(*bounded(slow.get()).await, 1);
}

static SELF_CYCLE: LazyLock<AsyncState<u8>> = LazyLock::new(|| {
    AsyncState::new("cycle::self", || async {
        let again = SELF_CYCLE.try_get().await?;
        Ok::<_, Error>(*again)
    })
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_reads_itself_is_a_cycle() {
    let error = bounded(SELF_CYCLE.try_get()).await.map(|_| ()).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("start cycle: cycle::self -> cycle::self"),
        "{text}"
    );
    assert!(!SELF_CYCLE.is_realized());
}

/// What the start of a state in a cycle does before it reads the next state.
#[derive(Clone, Copy)]
enum Pause {
    No,
    Yield,
    Sleep(Duration),
}

impl Pause {
    async fn run(self) {
        match self {
            Pause::No => {}
            Pause::Yield => tokio::task::yield_now().await,
            Pause::Sleep(duration) => tokio::time::sleep(duration).await,
        }
    }
}

/// A state in a cycle: its start pauses, then reads `next` and adds one.
fn one_more_than(
    name: &'static str,
    pause: Pause,
    next: &'static LazyLock<AsyncState<u8>>,
) -> AsyncState<u8> {
    AsyncState::new(name, move || async move {
        pause.run().await;
        Ok::<_, Error>(*next.try_get().await? + 1)
    })
}

static INLINE_A: LazyLock<AsyncState<u8>> =
    LazyLock::new(|| one_more_than("cycle::inline-a", Pause::No, &INLINE_B));
static INLINE_B: LazyLock<AsyncState<u8>> =
    LazyLock::new(|| one_more_than("cycle::inline-b", Pause::Yield, &INLINE_A));

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cycle_through_another_state_in_one_task_is_an_error() {
    let error = bounded(INLINE_A.try_get()).await.map(|_| ()).unwrap_err();
    let Error::Start { source, .. } = &error else {
        panic!("{error:?}")
    };
    let text = source.to_string();
    assert!(
        text.contains("start cycle: cycle::inline-a -> cycle::inline-b -> cycle::inline-a"),
        "{text}"
    );
    assert!(!INLINE_A.is_realized() && !INLINE_B.is_realized());
}

const CROSS_PAUSE: Pause = Pause::Sleep(Duration::from_millis(100));
static CROSS_A: LazyLock<AsyncState<u8>> =
    LazyLock::new(|| one_more_than("cycle::cross-a", CROSS_PAUSE, &CROSS_B));
static CROSS_B: LazyLock<AsyncState<u8>> =
    LazyLock::new(|| one_more_than("cycle::cross-b", CROSS_PAUSE, &CROSS_A));

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cycle_across_two_tasks_is_an_error_in_both_never_a_hang() {
    let a = tokio::spawn(async { CROSS_A.try_get().await.map(|v| *v) });
    let b = tokio::spawn(async { CROSS_B.try_get().await.map(|v| *v) });
    let (a, b) = (bounded(a).await.unwrap(), bounded(b).await.unwrap());
    for result in [a, b] {
        let text = result.unwrap_err().to_string();
        assert!(text.contains("start cycle: "), "{text}");
        assert!(
            text.contains("cycle::cross-a") && text.contains("cycle::cross-b"),
            "{text}"
        );
    }
    assert!(!CROSS_A.is_realized() && !CROSS_B.is_realized());
}

static CHAIN_A: LazyLock<AsyncState<u8>> =
    LazyLock::new(|| one_more_than("cycle::chain-a", Pause::No, &CHAIN_B));
static CHAIN_B: LazyLock<AsyncState<u8>> = LazyLock::new(|| {
    one_more_than(
        "cycle::chain-b",
        Pause::Sleep(Duration::from_millis(50)),
        &CHAIN_C,
    )
});
static CHAIN_C: LazyLock<AsyncState<u8>> = LazyLock::new(|| {
    one_more_than(
        "cycle::chain-c",
        Pause::Sleep(Duration::from_millis(150)),
        &CHAIN_A,
    )
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cycle_through_an_inline_start_in_another_task_is_found() {
    // Task 1 starts a, which starts b inline, which waits for c; task 2 starts c, which then
    // reads a. The wait-for chain a -> b -> c must be visible to task 2.
    let c = tokio::spawn(async { CHAIN_C.try_get().await.map(|v| *v) });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let a = tokio::spawn(async { CHAIN_A.try_get().await.map(|v| *v) });
    let (c, a) = (bounded(c).await.unwrap(), bounded(a).await.unwrap());
    let c = c.unwrap_err().to_string();
    assert!(
        c.contains(
            "start cycle: cycle::chain-c -> cycle::chain-a -> cycle::chain-b -> cycle::chain-c"
        ),
        "{c}"
    );
    assert!(a.unwrap_err().to_string().contains("start cycle: "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_waits_for_a_guard_held_across_an_await_in_a_spawned_task() {
    let log = Log::default();
    let state = Arc::new(
        AsyncState::new("stop::guard", || async {
            Ok::<_, Error>(String::from("conn"))
        })
        .with_stop({
            let log = log.clone();
            move |value: String| {
                let log = log.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    log.push(format!("stopped {value}"));
                }
            }
        }),
    );
    let guard = bounded(state.get()).await;
    let released = Arc::new(AtomicBool::new(false));
    let holder = tokio::spawn({
        let released = Arc::clone(&released);
        let log = log.clone();
        async move {
            let value: AsyncRef<String> = guard; // moved into the task
            tokio::time::sleep(Duration::from_millis(300)).await;
            log.push(format!("still reading {}", *value));
            released.store(true, Ordering::SeqCst);
            drop(value);
        }
    });
    let began = Instant::now();
    bounded(state.stop()).await.unwrap();
    assert!(
        released.load(Ordering::SeqCst),
        "stop returned while a guard was out"
    );
    assert!(began.elapsed() >= Duration::from_millis(250));
    assert_eq!(log.take(), ["still reading conn", "stopped conn"]);
    assert!(!state.is_realized());
    bounded(holder).await.unwrap();

    // New readers during the stop wait for it and then start the state again.
    assert_eq!(bounded(state.get()).await.as_str(), "conn");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_that_times_out_names_the_state_and_leaves_it_started() {
    let state = AsyncState::new("stop::held", || async { Ok::<_, Error>(5) });
    let guard = bounded(state.get()).await;
    let error = bounded(state.stop_within(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::StillInUse { .. }), "{error:?}");
    assert_eq!(error.state(), Some("stop::held"));
    assert!(state.is_realized());
    assert_eq!(*guard, 5);
    let another = guard.clone();
    drop(guard);
    assert_eq!(*another, 5);
    drop(another);
    bounded(state.stop()).await.unwrap();
    assert!(!state.is_realized());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_async_stop_must_be_force_closed() {
    let fail = Arc::new(AtomicBool::new(true));
    let state = AsyncState::new("stop::failing", || async { Ok::<_, Error>(1) }).with_stop({
        let fail = Arc::clone(&fail);
        move |_| {
            let fail = fail.load(Ordering::SeqCst);
            async move {
                tokio::task::yield_now().await;
                if fail {
                    Err("socket busy")
                } else {
                    Ok(())
                }
            }
        }
    });
    bounded(state.get()).await;
    let error = bounded(state.stop()).await.unwrap_err();
    assert!(error.to_string().contains("socket busy"), "{error}");
    let error = bounded(state.try_get()).await.map(|_| ()).unwrap_err();
    assert!(
        matches!(error, Error::StopFailedEarlier { .. }),
        "{error:?}"
    );
    bounded(state.force_close()).await.unwrap();
    fail.store(false, Ordering::SeqCst);
    assert_eq!(*bounded(state.get()).await, 1);
    bounded(state.stop()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_stop_that_never_ends_is_bounded_and_drops_the_value() {
    struct Noisy(Arc<AtomicBool>);
    impl Drop for Noisy {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let state = AsyncState::new("stop::hanging", {
        let dropped = Arc::clone(&dropped);
        move || {
            let dropped = Arc::clone(&dropped);
            async move { Ok::<_, Error>(Noisy(dropped)) }
        }
    })
    .with_stop(|value: Noisy| async move {
        std::future::pending::<()>().await;
        drop(value);
    });
    bounded(state.get()).await;
    let error = bounded(state.stop_within(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("did not finish within"),
        "{error}"
    );
    assert!(dropped.load(Ordering::SeqCst));
    bounded(state.force_close()).await.unwrap();
    assert!(!state.is_realized());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_state_from_its_own_start_is_reentrant() {
    static SELF_STOP: LazyLock<AsyncState<u8>> = LazyLock::new(|| {
        AsyncState::new("reentrant::start", || async {
            SELF_STOP.stop().await?;
            Ok::<_, Error>(1)
        })
    });
    let error = bounded(SELF_STOP.try_get()).await.map(|_| ()).unwrap_err();
    assert!(
        error.to_string().contains("is starting on this thread"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_inside_an_async_start_are_recorded_in_the_graph() {
    let config = Arc::new(State::new("graph::config", || {
        Ok(String::from("db.sqlite"))
    }));
    let pool = Arc::new(AsyncState::new("graph::pool", || async {
        Ok::<_, Error>(4_usize)
    }));
    let server = AsyncState::new("graph::server", {
        let (config, pool) = (Arc::clone(&config), Arc::clone(&pool));
        move || {
            let (config, pool) = (Arc::clone(&config), Arc::clone(&pool));
            async move {
                let file = config.get().clone(); // a sync read inside an async start
                let size = *pool.try_get().await?;
                Ok::<_, Error>(format!("{file} x{size}"))
            }
        }
    });
    assert_eq!(bounded(server.get()).await.as_str(), "db.sqlite x4");
    let graph = lifecycle::graph();
    let mut deps = graph.dependencies_of("graph::server");
    deps.sort_unstable();
    assert_eq!(deps, ["graph::config", "graph::pool"]);
    assert!(graph
        .to_dot()
        .contains("\"graph::server\" -> \"graph::pool\";"));

    // status() lists them in realization order: config and pool realized inside server's start.
    let names: Vec<String> = lifecycle::status()
        .iter()
        .map(|s| s.name().to_owned())
        .filter(|n| n.starts_with("graph::"))
        .collect();
    assert_eq!(names, ["graph::config", "graph::pool", "graph::server"]);

    // Restarting a dependency alone stops its dependents first; they start again on their
    // next use.
    bounded(pool.restart_alone()).await.unwrap();
    assert!(pool.is_realized() && !server.is_realized() && config.is_realized());
    assert_eq!(bounded(server.get()).await.as_str(), "db.sqlite x4");
    // A sync restart reaches async dependents too.
    config.restart_alone().unwrap();
    assert!(!server.is_realized());

    // restart() brings back the dependents that were running, sync and async.
    assert_eq!(bounded(server.get()).await.as_str(), "db.sqlite x4");
    let restarted = bounded(pool.restart()).await.unwrap();
    assert_eq!(restarted.stopped, ["graph::server", "graph::pool"]);
    assert_eq!(restarted.started, ["graph::pool", "graph::server"]);
    assert!(server.is_realized());
    let restarted = config.restart().unwrap();
    assert_eq!(restarted.started, ["graph::config", "graph::server"]);
    assert!(server.is_realized());
    bounded(server.stop()).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printing_shows_the_name_and_never_starts_it() {
    let state = AsyncState::new("print::me", || async { Ok::<_, Error>(7) });
    assert!(format!("{state:?}").ends_with("[print::me]: unrealized>"));
    let _guard = bounded(state.get()).await;
    assert!(format!("{state}").ends_with("[print::me]: 7>"));
    assert!(format!("{state:?}").starts_with("#<AsyncState@"));
}

#[test]
fn dropping_a_realized_local_async_state_stops_it() {
    let runtime = runtime();
    let log = Log::default();
    let state = AsyncState::new("drop::local", || async { Ok::<_, Error>("value") }).with_stop({
        let log = log.clone();
        move |value| {
            let log = log.clone();
            async move { log.push(format!("stopped {value}")) }
        }
    });
    runtime.block_on(async { bounded(state.get()).await });
    assert!(common::is_listed("drop::local"));
    drop(state);
    assert_eq!(log.take(), ["stopped value"]);
    assert!(!common::is_listed("drop::local"));
}

#[test]
fn works_without_tokio_on_a_plain_block_on() {
    let state = AsyncState::new("plain::block-on", || async {
        Ok::<_, Error>(String::from("x"))
    });
    let value = lifecycle::__private::block_on(async { (*state.get().await).clone() });
    assert_eq!(value, "x");
    lifecycle::__private::block_on(state.stop()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_states_owned_handle_crosses_await_in_spawn_and_stop_waits_for_it() {
    let log = Log::default();
    let state = Arc::new(
        State::new("owned::sync", || Ok(String::from("pool"))).with_stop({
            let log = log.clone();
            move |value: String| log.push(format!("stopped {value}"))
        }),
    );
    let handle: lifecycle::Owned<String> = state.get_owned();
    let holder = tokio::spawn({
        let log = log.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            log.push(format!("released {}", *handle));
        }
    });
    // The sync stop waits by sleeping: off the async threads.
    let stopper = Arc::clone(&state);
    bounded(tokio::task::spawn_blocking(move || stopper.stop()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(log.take(), ["released pool", "stopped pool"]);
    bounded(holder).await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn bind_substitutes_the_value_on_this_thread_and_nests() {
    let starts = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&starts);
    let port = AsyncState::new("async-bind-port", move || {
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, std::io::Error>(8080_u16) }
    });
    {
        let _outer = port.bind(1);
        assert_eq!(*port.get().await, 1);
        {
            let _inner = port.bind(2);
            assert_eq!(*port.get().await, 2);
            assert_eq!(port.peek().map(|v| *v), Some(2));
        }
        let held = port.get().await;
        let copy = held.clone();
        drop(held);
        assert_eq!(*copy, 1, "a bound guard outlives a clone's drop");
        // Another thread does not see the binding.
        let other = std::thread::scope(|s| s.spawn(|| port.peek().map(|v| *v)).join().unwrap());
        assert_eq!(other, None);
    }
    assert_eq!(
        starts.load(Ordering::SeqCst),
        0,
        "bound reads never start it"
    );
    assert_eq!(*port.get().await, 8080);
    port.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn redefine_applies_when_idle_and_is_skipped_while_active() {
    let stopped = Arc::new(AtomicUsize::new(0));
    let state = AsyncState::new("async-redefine", || async { Ok::<_, std::io::Error>(1) });
    let counted = Arc::clone(&stopped);
    let redefined = state.redefine(
        || async { Ok::<_, std::io::Error>(2) },
        move |value: i32| {
            counted.fetch_add(value as usize, Ordering::SeqCst);
            async {}
        },
    );
    assert_eq!(redefined, lifecycle::Redefine::Applied);
    assert_eq!(*state.get().await, 2);
    let skipped = state.redefine(|| async { Ok::<_, std::io::Error>(3) }, |_: i32| async {});
    assert_eq!(skipped, lifecycle::Redefine::Skipped);
    state.stop().await.unwrap();
    assert_eq!(stopped.load(Ordering::SeqCst), 2, "the redefined stop ran");
    assert_eq!(
        *state.get().await,
        2,
        "the skipped definition did not apply"
    );
    state.stop().await.unwrap();
}
