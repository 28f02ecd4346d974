//! A binding never escapes its thread, and `lifecycle::isolate` runs code in a private world
//! (issue 12, item 1): through the public API, as parallel tests of a program would use it.
//!
//! Each test has its own statics, so the tests of this file may run in parallel.

use lifecycle::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Barrier, Mutex};

mod common;

use common::status_names as names;

/// The scenario of the issue: a test binds `CONFIG`, reads `LISTENER` (whose start reads
/// `CONFIG`), and the listener must not reach any other thread.
mod bind_scope {
    use super::*;

    #[derive(Debug)]
    pub struct Config {
        pub port: u16,
    }

    #[derive(Debug)]
    pub struct Listener {
        pub port: u16,
    }

    pub static STOPPED: Mutex<Vec<u16>> = Mutex::new(Vec::new());

    #[defstate(name = "bind_scope/config")]
    pub static CONFIG: Config = Config { port: 8080 };

    #[defstate(name = "bind_scope/listener", stop = |l| STOPPED.lock().unwrap().push(l.port))]
    pub static LISTENER: Listener = Listener {
        port: CONFIG.get().port,
    };

    #[test]
    fn parallel_bindings_never_see_each_others_values_or_dependents() {
        let both_started = Arc::new(Barrier::new(2));
        let tests: Vec<_> = [1001_u16, 2002]
            .into_iter()
            .map(|port| {
                let both_started = Arc::clone(&both_started);
                std::thread::spawn(move || {
                    let _config = CONFIG.bind(Config { port });
                    assert_eq!(LISTENER.get().port, port);
                    assert!(LISTENER.is_realized(), "realized in this scope");
                    assert_eq!(LISTENER.status(), lifecycle::Status::Realized);
                    assert!(
                        !names().contains(&"bind_scope/listener".to_owned()),
                        "a private listener is not in the process's status()"
                    );
                    // Both listeners are up at once: neither thread sees the other's.
                    both_started.wait();
                    for _ in 0..100 {
                        assert_eq!(LISTENER.get().port, port);
                        assert_eq!(LISTENER.get_owned().port, port);
                        assert_eq!(LISTENER.peek().map(|l| l.port), Some(port));
                        assert_eq!(LISTENER.try_get().unwrap().port, port);
                    }
                    both_started.wait();
                })
            })
            .collect();
        for test in tests {
            test.join().unwrap();
        }
        // Each private listener was stopped when its thread's binding guard dropped.
        let mut stopped = STOPPED.lock().unwrap().clone();
        stopped.sort_unstable();
        assert_eq!(stopped, [1001, 2002]);
        assert!(!LISTENER.is_realized(), "never published");
        assert!(!CONFIG.is_realized());
        assert!(!names().contains(&"bind_scope/listener".to_owned()));
        assert!(lifecycle::graph()
            .dependencies_of("bind_scope/listener")
            .is_empty());

        // A third, unbound thread gets the real listener.
        let real = std::thread::spawn(|| LISTENER.get().port).join().unwrap();
        assert_eq!(real, 8080);
        assert!(names().contains(&"bind_scope/listener".to_owned()));
        assert_eq!(
            lifecycle::graph().dependencies_of("bind_scope/listener"),
            ["bind_scope/config"]
        );

        // Once realized globally (never from a binding), a bound thread reads that value: it
        // was built before and without the binding.
        let seen = std::thread::spawn(|| {
            let _config = CONFIG.bind(Config { port: 3003 });
            (CONFIG.get().port, LISTENER.get().port)
        })
        .join()
        .unwrap();
        assert_eq!(seen, (3003, 8080));
        lifecycle::stop_where(|state| state.name().starts_with("bind_scope/")).unwrap();
    }
}

/// The old leak, without any new API: one thread binds and reads the dependent, another
/// reads the dependent unbound. Before the fix the second thread got the bound port.
mod old_leak {
    use super::*;

    #[defstate(name = "old_leak/port")]
    static PORT: u16 = 8080;

    #[defstate(name = "old_leak/listener")]
    static LISTENER: String = format!("listening on {}", *PORT.get());

    #[test]
    fn a_dependent_started_under_a_binding_does_not_reach_other_threads() {
        std::thread::spawn(|| {
            let _port = PORT.bind(1);
            assert_eq!(*LISTENER.get(), "listening on 1");
        })
        .join()
        .unwrap();
        let other = std::thread::spawn(|| LISTENER.get().clone())
            .join()
            .unwrap();
        assert_eq!(other, "listening on 8080");
        lifecycle::stop_where(|state| state.name().starts_with("old_leak/")).unwrap();
    }
}

/// `isolate`: every state the closure starts is private and stopped at the end, newest
/// first, also when the closure panics.
mod isolated {
    use super::*;

    pub static EVENTS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

    #[defstate(name = "isolated/db", stop = |_| EVENTS.lock().unwrap().push("stop db"))]
    pub static DB: u32 = {
        EVENTS.lock().unwrap().push("start db");
        7
    };

    #[defstate(name = "isolated/cache", stop = |_| EVENTS.lock().unwrap().push("stop cache"))]
    pub static CACHE: u32 = {
        EVENTS.lock().unwrap().push("start cache");
        *DB.get() * 2
    };

    #[defstate(name = "isolated/queue", stop = |_| EVENTS.lock().unwrap().push("stop queue"))]
    pub static QUEUE: u32 = {
        EVENTS.lock().unwrap().push("start queue");
        1
    };

    fn take_events() -> Vec<&'static str> {
        std::mem::take(&mut *EVENTS.lock().unwrap())
    }

    /// Every state started and stopped, dependents first, by one isolated run.
    const FULL_RUN: [&str; 6] = [
        "start cache",
        "start db",
        "start queue",
        "stop queue",
        "stop cache",
        "stop db",
    ];

    #[test]
    fn states_started_inside_are_private_and_stopped_in_reverse_order_also_on_panic() {
        let _serial = SERIAL.lock().unwrap();
        let value = lifecycle::isolate(|| {
            assert_eq!(*CACHE.get(), 14);
            assert_eq!(*QUEUE.get(), 1);
            let listed = names();
            for name in ["isolated/db", "isolated/cache", "isolated/queue"] {
                assert!(!listed.contains(&name.to_owned()), "{name} is private");
            }
            assert!(lifecycle::graph()
                .dependencies_of("isolated/cache")
                .is_empty());
            assert!(CACHE.is_realized() && DB.is_realized());
            // Another thread does not see the private values.
            assert!(
                std::thread::spawn(|| !CACHE.is_realized() && CACHE.peek().is_none())
                    .join()
                    .unwrap()
            );
            *CACHE.get() + 1
        });
        assert_eq!(value, 15);
        assert_eq!(take_events(), FULL_RUN);
        assert!(!DB.is_realized() && !CACHE.is_realized() && !QUEUE.is_realized());

        let panicked = catch_unwind(AssertUnwindSafe(|| {
            lifecycle::isolate(|| {
                CACHE.get();
                QUEUE.get();
                panic!("a failing test");
            })
        }));
        let payload = panicked.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"a failing test"));
        assert_eq!(
            take_events(),
            FULL_RUN,
            "the teardown ran before the panic went on"
        );
        assert!(!DB.is_realized() && !CACHE.is_realized() && !QUEUE.is_realized());
    }

    #[test]
    fn stop_inside_stops_the_private_value_and_its_private_dependents() {
        let _serial = SERIAL.lock().unwrap();
        lifecycle::isolate(|| {
            CACHE.get();
            take_events();
            DB.stop().unwrap();
            assert_eq!(take_events(), ["stop cache", "stop db"]);
            assert!(!CACHE.is_realized());
            assert_eq!(CACHE.status(), lifecycle::Status::Unrealized);
            assert_eq!(*CACHE.get(), 14);
            assert_eq!(take_events(), ["start cache", "start db"]);
        });
        assert_eq!(take_events(), ["stop cache", "stop db"]);
    }

    /// The tests of this module share its statics and their event log.
    static SERIAL: Mutex<()> = Mutex::new(());
}

/// A global value realized before the scope is read, not replaced; what the scope starts
/// on top of it is private. Threads spawned inside do not inherit the scope.
mod global_under_scope {
    use super::*;

    #[defstate(name = "global_under_scope/base")]
    static BASE: u32 = 1;

    #[defstate(name = "global_under_scope/top")]
    static TOP: u32 = *BASE.get() + 1;

    #[test]
    fn reads_resolve_private_then_global_then_start_privately() {
        assert_eq!(*BASE.get(), 1); // global
        lifecycle::isolate(|| {
            assert_eq!(*TOP.get(), 2);
            assert!(names().contains(&"global_under_scope/base".to_owned()));
            assert!(!names().contains(&"global_under_scope/top".to_owned()));
            // A spawned thread has no scope: it starts the global TOP.
            std::thread::spawn(|| assert_eq!(*TOP.get(), 2))
                .join()
                .unwrap();
            assert!(names().contains(&"global_under_scope/top".to_owned()));
        });
        // The global values stay: the scope stopped only its own.
        assert!(BASE.is_realized() && TOP.is_realized());
        lifecycle::stop_where(|state| state.name().starts_with("global_under_scope/")).unwrap();
    }
}

/// What the teardown failed to stop: logged by `isolate`, an error from `try_isolate`.
mod failures {
    use super::*;

    #[defstate(name = "failures/db", stop = |_: u8| Err("disk full".to_owned()))]
    static DB: u8 = 1;

    #[defstate(name = "failures/cycle")]
    static CYCLE: u8 = *CYCLE.get();

    #[test]
    fn try_isolate_reports_a_failed_stop_and_isolate_still_returns() {
        let error = lifecycle::try_isolate(|| *DB.get()).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("failures/db") && text.contains("disk full"),
            "{text}"
        );
        assert_eq!(lifecycle::isolate(|| *DB.get()), 1);
        assert!(!DB.is_realized());
    }

    #[test]
    fn a_private_start_that_reads_itself_is_a_cycle() {
        let error = lifecycle::isolate(|| CYCLE.try_get().map(|v| *v)).unwrap_err();
        assert!(
            matches!(&error, lifecycle::Error::Start { source, .. }
                if source.to_string().contains("cycle")),
            "{error}"
        );
        assert!(!CYCLE.is_realized());
    }
}

/// `isolate_async`: the scope follows the task across worker threads.
mod isolated_async {
    use super::*;

    pub static STOPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    #[defstate(name = "isolated_async/config")]
    static CONFIG: u16 = 8080;

    #[defstate(
        name = "isolated_async/session",
        stop = |s| async move {
            tokio::task::yield_now().await;
            STOPPED.lock().unwrap().push(s);
        }
    )]
    static SESSION: String = async {
        let port = *CONFIG.get();
        tokio::task::yield_now().await;
        format!("session on {port} #{:?}", std::thread::current().id())
    };

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_scope_follows_the_task_across_yields_and_threads() {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                tokio::spawn(lifecycle::isolate_async(async {
                    let first: String = (*SESSION.get().await).clone();
                    let mut threads = std::collections::HashSet::new();
                    // At least 50 rounds, and on until the task has run on two threads: every
                    // tenth round blocks in place, which hands this worker's queue to another
                    // thread, so the task is soon resumed elsewhere.
                    for round in 0..2_000 {
                        if round >= 50 && threads.len() > 1 {
                            break;
                        }
                        if round % 10 == 9 {
                            tokio::task::block_in_place(|| {
                                std::thread::sleep(std::time::Duration::from_micros(200))
                            });
                        }
                        tokio::task::yield_now().await;
                        threads.insert(std::thread::current().id());
                        assert_eq!(*SESSION.get().await, first, "one private value per task");
                        assert!(SESSION.is_realized() && CONFIG.is_realized());
                        assert_eq!(SESSION.status(), lifecycle::Status::Realized);
                        assert_eq!(SESSION.peek().as_deref(), Some(&first));
                        assert!(!names().contains(&"isolated_async/session".to_owned()));
                        assert!(!names().contains(&"isolated_async/config".to_owned()));
                    }
                    (first, threads.len())
                }))
            })
            .collect();
        let mut sessions = Vec::new();
        let mut moved = false;
        for task in tasks {
            let (session, threads) = task.await.unwrap();
            moved |= threads > 1;
            sessions.push(session);
        }
        assert!(!SESSION.is_realized() && !CONFIG.is_realized());
        let mut stopped = STOPPED.lock().unwrap().clone();
        stopped.sort();
        sessions.sort();
        assert_eq!(
            stopped, sessions,
            "each task's session was stopped once, awaited"
        );
        // The scheduler does not promise a move, but 8 tasks that block in place and yield up
        // to 2,000 times on 4 workers always move; if none did, the test did not exercise
        // what it should.
        assert!(moved, "no task moved between worker threads");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn joined_reads_in_one_scope_start_the_state_once() {
        use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        #[defstate(name = "isolated_async/joined")]
        static JOINED: usize = async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            STARTS.fetch_add(1, SeqCst) + 1
        };

        let (a, b) = lifecycle::isolate_async(async {
            let (a, b) = tokio::join!(JOINED.get(), JOINED.get());
            (*a, *b)
        })
        .await;
        assert_eq!((a, b), (1, 1));
        assert_eq!(STARTS.load(SeqCst), 1, "one private start for both reads");
        assert!(!JOINED.is_realized());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_task_still_tears_down() {
        #[defstate(name = "isolated_async/panics", stop = |_| async move {
            STOPPED_ON_PANIC.lock().unwrap().push("stopped");
        })]
        static PANICS: u8 = async { 1 };
        static STOPPED_ON_PANIC: Mutex<Vec<&str>> = Mutex::new(Vec::new());

        let joined = tokio::spawn(lifecycle::isolate_async(async {
            PANICS.get().await;
            tokio::task::yield_now().await;
            panic!("a failing async test");
        }))
        .await;
        assert!(joined.unwrap_err().is_panic());
        assert_eq!(*STOPPED_ON_PANIC.lock().unwrap(), ["stopped"]);
        assert!(!PANICS.is_realized());
    }
}

/// `#[lifecycle::test]`: the body of a test runs in `isolate` (sync) or `isolate_async`
/// (async, under the runtime's test attribute). The wrapped tests also run on their own; the
/// checks below call them and look at what their teardown did on this thread.
mod attribute {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        static STOPS: Cell<u32> = const { Cell::new(0) };
    }

    #[defstate(name = "attribute/port")]
    static PORT: u16 = 8080;

    #[defstate(name = "attribute/url", stop = |_| STOPS.with(|s| s.set(s.get() + 1)))]
    static URL: String = format!("http://localhost:{}", *PORT.get());

    #[defstate(
        name = "attribute/session",
        stop = |_| async move { STOPS.with(|s| s.set(s.get() + 1)) }
    )]
    static SESSION: String = async {
        tokio::task::yield_now().await;
        URL.get().clone()
    };

    #[lifecycle::test]
    fn sync_test() {
        let _port = PORT.bind(0);
        assert_eq!(*URL.get(), "http://localhost:0");
        assert!(!names().contains(&"attribute/url".to_owned()));
    }

    #[lifecycle::test]
    fn sync_test_with_question_mark() -> Result<(), lifecycle::Error> {
        assert_eq!(*URL.try_get()?, "http://localhost:8080");
        assert!(!names().contains(&"attribute/url".to_owned()));
        Ok(())
    }

    #[lifecycle::test]
    #[should_panic = "a failing test"]
    fn sync_test_that_panics() {
        URL.get();
        panic!("a failing test");
    }

    #[lifecycle::test]
    #[tokio::test]
    async fn async_test() {
        assert_eq!(*SESSION.get().await, "http://localhost:8080");
        assert!(!names().contains(&"attribute/session".to_owned()));
        assert!(!names().contains(&"attribute/url".to_owned()));
    }

    #[test]
    fn the_wrapped_tests_stop_what_they_started() {
        let stops = || STOPS.with(Cell::get);
        sync_test();
        assert_eq!(stops(), 1, "the private url was stopped");
        sync_test_with_question_mark().unwrap();
        assert_eq!(stops(), 2);
        assert!(catch_unwind(sync_test_that_panics).is_err());
        assert_eq!(stops(), 3, "stopped before the panic went on");
        async_test(); // its own current-thread runtime, on this thread
        assert_eq!(stops(), 5, "the private session and url were stopped");
        assert!(!URL.is_realized() && !SESSION.is_realized() && !PORT.is_realized());
    }
}

/// `lifecycle::stop()` runs a stop function under the caller's bindings on its worker thread;
/// what that stop function starts under them must stay private to that one call, never
/// published to other threads.
mod teardown_under_bindings {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    static STARTS: AtomicUsize = AtomicUsize::new(0);
    static STOPS: AtomicUsize = AtomicUsize::new(0);

    #[defstate(name = "iso-teardown/x")]
    static X: &'static str = "real";

    #[defstate(name = "iso-teardown/z", stop = |_| { STOPS.fetch_add(1, SeqCst); })]
    static Z: String = {
        STARTS.fetch_add(1, SeqCst);
        format!("z from {}", *X.get())
    };

    #[defstate(name = "iso-teardown/y", stop = |_| { let _ = Z.get().len(); })]
    static Y: u8 = 1;

    #[test]
    fn what_a_stop_function_starts_under_the_callers_bindings_stays_private() {
        Y.get();
        let _fake = X.bind("fake");
        let report = lifecycle::stop_where(|s| s.name() == "iso-teardown/y").unwrap();
        assert_eq!(report.stopped, ["iso-teardown/y"]);
        assert_eq!(STARTS.load(SeqCst), 1, "Y's stop read Z once");
        let seen = std::thread::spawn(|| (Z.is_realized(), X.is_realized()))
            .join()
            .unwrap();
        assert_eq!(
            seen,
            (false, false),
            "Z (built from the fake X) leaked to other threads"
        );
        assert_eq!(
            STOPS.load(SeqCst),
            1,
            "the call's private Z is stopped when it ends"
        );
    }
}
