//! The state macros with `async { ... }` initializers, as a program uses them: `#[defstate]`,
//! `lifecycle::decl::defstate!` and `state!` give `AsyncState<T>`s read with `.get().await`,
//! with async stops, `?` in the block, names, meta, `declared()`, and hygiene.
//!
//! Tests run in parallel in one process; each uses its own states and stops only those.

mod common;

use common::run;
use lifecycle::prelude::*;
use lifecycle::{AsyncState, Error};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;
use std::time::Duration;

mod attribute {
    use super::*;

    static STARTS: AtomicUsize = AtomicUsize::new(0);
    static STOPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    #[derive(Debug)]
    pub struct Client {
        pub url: String,
        pub generation: usize,
    }

    impl Client {
        async fn connect(url: &str) -> std::io::Result<Client> {
            tokio::time::sleep(Duration::from_millis(5)).await;
            Ok(Client {
                url: url.to_owned(),
                generation: STARTS.fetch_add(1, SeqCst) + 1,
            })
        }

        async fn close(self) -> Result<(), std::io::Error> {
            tokio::task::yield_now().await;
            STOPPED.lock().unwrap().push(self.url);
            Ok(())
        }
    }

    #[defstate]
    static URL: String = String::from("tcp://db");

    /// A client started asynchronously; its start reads the sync state `URL`.
    #[defstate(stop = |client| async move { client.close().await }, meta(bucket = "db"))]
    pub static CLIENT: Client = async {
        let url = URL.get().clone(); // a sync guard is not `Send`: do not hold it across `.await`
        Client::connect(&url).await?
    };

    #[test]
    fn starts_on_first_await_once_stops_with_its_async_stop_and_starts_again() {
        run(async {
            assert!(!CLIENT.is_realized());
            let client = CLIENT.get().await;
            assert_eq!(client.url, "tcp://db");
            assert_eq!(client.generation, 1);
            assert_eq!(CLIENT.get().await.generation, 1, "the value is cached");
            drop(client);
            assert_eq!(CLIENT.name(), "defstate_async::attribute::CLIENT");
            assert_eq!(CLIENT.meta("bucket"), Some("db"));
            assert_eq!(
                lifecycle::graph().dependencies_of("defstate_async::attribute::CLIENT"),
                ["defstate_async::attribute::URL"]
            );
            CLIENT.stop().await.unwrap();
            assert_eq!(*STOPPED.lock().unwrap(), ["tcp://db"]);
            assert_eq!(CLIENT.get().await.generation, 2);
            CLIENT.stop().await.unwrap();
            URL.stop().unwrap();
        });
    }

    #[test]
    fn declared_lists_async_statics() {
        let declared = lifecycle::declared();
        let client = declared
            .iter()
            .find(|d| d.name() == "defstate_async::attribute::CLIENT")
            .expect("CLIENT is declared");
        assert!(client.info().file().ends_with("defstate_async.rs"));
        assert_eq!(client.info().meta("bucket"), Some("db"));
    }
}

mod fallible {
    use super::*;

    static BROKEN: AtomicBool = AtomicBool::new(true);

    async fn configured_port() -> &'static str {
        tokio::task::yield_now().await;
        if BROKEN.load(SeqCst) {
            "eighty"
        } else {
            "80"
        }
    }

    #[defstate(name = "async/port")]
    static PORT: u16 = async { configured_port().await.parse::<u16>()? };

    #[test]
    fn question_mark_in_the_block_fails_the_start_and_a_later_use_retries() {
        run(async {
            let error = PORT.try_get().await.map(|port| *port).unwrap_err();
            assert!(matches!(error, Error::Start { .. }), "{error:?}");
            let message = format!("{error}: {}", std::error::Error::source(&error).unwrap());
            assert!(message.contains("async/port"), "{message}");
            assert!(message.contains("invalid digit"), "{message}");
            assert!(!PORT.is_realized());
            BROKEN.store(false, SeqCst);
            assert_eq!(*PORT.get().await, 80);
            PORT.stop().await.unwrap();
        });
    }
}

mod block {
    use super::*;

    static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

    async fn record(line: String) {
        tokio::task::yield_now().await;
        LOG.lock().unwrap().push(line);
    }

    lifecycle::decl::defstate! {
        /// A pool; its stop clause may `.await`.
        static POOL: Vec<u8> = async { vec![1, 2, 3] };
        stop(pool) => record(format!("closed {} connections", pool.len())).await;
        name = "async/pool";

        static SERVICE: String = async move {
            let pool = POOL.try_get().await?;
            format!("service over {} connections", pool.len())
        };
        stop = |service: String| async move { record(service).await };
    }

    #[test]
    fn the_block_form_declares_async_states_with_stop_clauses() {
        run(async {
            assert_eq!(SERVICE.get().await.as_str(), "service over 3 connections");
            assert_eq!(POOL.name(), "async/pool");
            // Restarting the pool alone stops its dependent first.
            POOL.restart_alone().await.unwrap();
            assert!(!SERVICE.is_realized());
            assert_eq!(
                *LOG.lock().unwrap(),
                ["service over 3 connections", "closed 3 connections"]
            );
            POOL.stop().await.unwrap();
        });
    }
}

mod local {
    use super::*;

    #[test]
    fn state_with_an_async_block_is_a_local_async_state() {
        run(async {
            let base = 40_u32;
            let answer: AsyncState<u32> = state!(async {
                tokio::task::yield_now().await;
                base + 2
            });
            assert_eq!(*answer.get().await, 42);
            assert!(answer.name().starts_with("state@"));

            let stopped = std::sync::Arc::new(AtomicBool::new(false));
            let flag = std::sync::Arc::clone(&stopped);
            let with_stop = state! {
                start: async { String::from("conn") },
                stop: move |conn: String| {
                    let flag = std::sync::Arc::clone(&flag);
                    async move {
                        assert_eq!(conn, "conn");
                        flag.store(true, SeqCst);
                    }
                },
                name: "async/local",
                meta(kind = "local"),
            };
            assert_eq!(with_stop.get().await.as_str(), "conn");
            assert_eq!(with_stop.meta("kind"), Some("local"));
            with_stop.stop().await.unwrap();
            assert!(stopped.load(SeqCst));
            answer.stop().await.unwrap();
        });
    }
}

mod renamed {
    extern crate lifecycle as lc;

    #[lc::defstate(crate = lc)]
    static RENAMED: u8 = async { 7 };

    #[test]
    fn crate_path_reaches_the_async_runtime_types() {
        super::run(async {
            assert_eq!(*RENAMED.get().await, 7);
            RENAMED.stop().await.unwrap();
        });
    }
}

/// A stop that is a plain closure or function (issue 10): it returns `()` or `Result<(), E>`
/// instead of a future, and works as naturally as `|v| async move { .. }`.
// `|v| log(v)` is the form under test, not a redundant closure.
#[allow(clippy::redundant_closure)]
mod plain_stop {
    use super::*;

    static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn log(line: String) {
        LOG.lock().unwrap().push(line);
    }

    fn logged(prefix: &str) -> Vec<String> {
        let log = LOG.lock().unwrap();
        log.iter()
            .filter(|l| l.starts_with(prefix))
            .cloned()
            .collect()
    }

    #[defstate(stop = |v| log(v))]
    static UNIT: String = async { String::from("unit:stopped") };

    #[defstate(stop = |v: String| if v.is_empty() { Ok(()) } else { Err(format!("{v}: refused")) })]
    static FAILING: String = async { String::from("failing") };

    fn log_and_ok(v: String) -> Result<(), std::io::Error> {
        log(format!("{v}:stopped"));
        Ok(())
    }

    #[defstate(stop = log_and_ok)]
    static BY_PATH: String = async { String::from("path") };

    lifecycle::decl::defstate! {
        static CLAUSE: String = async { String::from("clause:stopped") };
        stop = |v| log(v);

        static BINDING: String = async { String::from("binding") };
        stop(v) => log(format!("{v}:stopped"));
    }

    #[test]
    fn a_plain_closure_returning_unit_stops_the_state() {
        run(async {
            assert_eq!(UNIT.get().await.as_str(), "unit:stopped");
            UNIT.stop().await.unwrap();
            assert!(!UNIT.is_realized());
            assert_eq!(logged("unit:"), ["unit:stopped"]);
        });
    }

    #[test]
    fn a_plain_closure_returning_an_error_fails_the_stop() {
        run(async {
            FAILING.get().await;
            let error = FAILING.stop().await.unwrap_err();
            assert!(error.to_string().contains("failing: refused"), "{error}");
        });
    }

    #[test]
    fn a_function_path_returning_a_result_stops_the_state() {
        run(async {
            BY_PATH.get().await;
            BY_PATH.stop().await.unwrap();
            assert_eq!(logged("path:"), ["path:stopped"]);
        });
    }

    #[test]
    fn block_form_clauses_accept_a_plain_stop() {
        run(async {
            CLAUSE.get().await;
            BINDING.get().await;
            CLAUSE.stop().await.unwrap();
            BINDING.stop().await.unwrap();
            assert_eq!(logged("clause:"), ["clause:stopped"]);
            assert_eq!(logged("binding:"), ["binding:stopped"]);
        });
    }

    #[test]
    fn a_local_async_state_accepts_a_plain_stop() {
        run(async {
            let stopped = std::sync::Arc::new(AtomicBool::new(false));
            let flag = stopped.clone();
            let local = state! {
                start: async { 7_u32 },
                stop: move |v| {
                    assert_eq!(v, 7);
                    flag.store(true, SeqCst);
                },
            };
            assert_eq!(*local.get().await, 7);
            local.stop().await.unwrap();
            assert!(stopped.load(SeqCst));

            let failing = state! {
                start: async { 1_u32 },
                stop: |_v| Err::<(), _>("local refused"),
            };
            failing.get().await;
            let error = failing.stop().await.unwrap_err();
            assert!(error.to_string().contains("local refused"), "{error}");
            // An `async move` stop still works in the same form.
            let future_stop = state! {
                start: async { 2_u32 },
                stop: |v| async move { assert_eq!(v, 2) },
            };
            future_stop.get().await;
            future_stop.stop().await.unwrap();
        });
    }
}
