//! `lifecycle::stop_async()` over sync and async states together: one reverse realization
//! order, every state tried, each bounded. Its own test binary, because it stops every state
//! of the process; the tests take turns.

mod common;

use common::{runtime, serial, serial_async, Log};
use lifecycle::{AsyncState, BoxError, Error, State};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn bounded<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .expect("the test did not finish in time (a hang?)")
}

fn sync_state(name: &'static str, log: &Log) -> State<&'static str> {
    let log = log.clone();
    State::new(name, move || Ok(name)).with_stop(move |value| log.push(format!("sync {value}")))
}

fn async_state(name: &'static str, log: &Log) -> AsyncState<&'static str> {
    let log = log.clone();
    AsyncState::new(name, move || async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok::<_, Error>(name)
    })
    .with_stop(move |value| {
        let log = log.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            log.push(format!("async {value}"));
        }
    })
}

#[test]
fn sync_and_async_states_stop_in_one_reverse_realization_order() {
    serial_async(async {
        let log = Log::default();
        let s1 = Arc::new(sync_state("mix::s1", &log));
        let a1 = {
            // a1's start reads s1 and realizes s3 inside it: order s1, s3, a1.
            let s1 = Arc::clone(&s1);
            let s3 = Arc::new(sync_state("mix::s3", &log));
            let log = log.clone();
            let s3_inner = Arc::clone(&s3);
            (
                AsyncState::new("mix::a1", move || {
                    let (s1, s3) = (Arc::clone(&s1), Arc::clone(&s3_inner));
                    async move {
                        tokio::task::yield_now().await;
                        Ok::<_, Error>(format!("{}+{}", *s1.get(), *s3.get()))
                    }
                })
                .with_stop(move |_| {
                    let log = log.clone();
                    async move { log.push("async mix::a1") }
                }),
                s3,
            )
        };
        let (a1, _s3) = a1;
        let s2 = sync_state("mix::s2", &log);
        let a2 = async_state("mix::a2", &log);

        s1.get();
        assert_eq!(bounded(a1.get()).await.as_str(), "mix::s1+mix::s3");
        s2.get();
        bounded(a2.get()).await;
        let realized: Vec<String> = lifecycle::status()
            .iter()
            .map(|s| s.name().to_owned())
            .collect();
        assert_eq!(
            realized,
            ["mix::s1", "mix::s3", "mix::a1", "mix::s2", "mix::a2"]
        );

        let report = bounded(lifecycle::stop_async()).await.unwrap();
        assert_eq!(
            report.stopped,
            ["mix::a2", "mix::s2", "mix::a1", "mix::s3", "mix::s1"]
        );
        assert_eq!(
            log.take(),
            [
                "async mix::a2",
                "sync mix::s2",
                "async mix::a1",
                "sync mix::s3",
                "sync mix::s1"
            ]
        );
        assert!(lifecycle::status().is_empty());
        assert!(!a1.is_realized() && !a2.is_realized() && !s1.is_realized());
    });
}

#[test]
fn every_state_is_tried_and_every_failure_reported_with_a_per_state_timeout() {
    serial_async(async {
        let log = Log::default();
        let first = sync_state("fail::first", &log);
        let failing = AsyncState::new("fail::failing", || async { Ok::<_, Error>(1) })
            .with_stop(|_| async { Err::<(), BoxError>("disk full".into()) });
        let hanging = AsyncState::new("fail::hanging", || async { Ok::<_, Error>(2) })
            .with_stop(|_| std::future::pending::<()>());
        let panicking =
            State::new("fail::panicking", || Ok(3)).with_stop(|_| -> () { panic!("exploded") });
        let last = async_state("fail::last", &log);

        first.get();
        bounded(failing.get()).await;
        bounded(hanging.get()).await;
        panicking.get();
        bounded(last.get()).await;

        let began = Instant::now();
        let error = bounded(lifecycle::stop_async_within(Duration::from_millis(200)))
            .await
            .unwrap_err();
        assert!(began.elapsed() < Duration::from_secs(20));
        let Error::StopAll(report) = error else {
            panic!("not StopAll: {error:?}")
        };
        assert_eq!(report.stopped, ["fail::last", "fail::first"]);
        let failed: Vec<(&str, String)> = report
            .failed
            .iter()
            .map(|(name, error)| (name.as_str(), error.to_string()))
            .collect();
        assert_eq!(failed.len(), 3, "{failed:?}");
        assert_eq!(failed[0].0, "fail::panicking");
        assert!(failed[0].1.contains("exploded"));
        assert_eq!(failed[1].0, "fail::hanging");
        assert!(
            failed[1].1.contains("did not finish within 200ms"),
            "{}",
            failed[1].1
        );
        assert_eq!(failed[2].0, "fail::failing");
        assert!(failed[2].1.contains("disk full"));
        assert_eq!(log.take(), ["async fail::last", "sync fail::first"]);

        // Clean up what failed, so the next test starts from nothing.
        bounded(failing.force_close()).await.unwrap();
        bounded(hanging.force_close()).await.unwrap();
        panicking.force_close().unwrap();
        assert!(lifecycle::status().is_empty());
    });
}

#[test]
fn stop_async_waits_for_guards_held_by_other_tasks() {
    serial_async(async {
        let log = Log::default();
        let state = Arc::new(async_state("wait::held", &log));
        let guard = bounded(state.get()).await;
        let holder = tokio::spawn({
            let log = log.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                log.push(format!("released {}", *guard));
            }
        });
        let report = bounded(lifecycle::stop_async()).await.unwrap();
        assert_eq!(report.stopped, ["wait::held"]);
        assert_eq!(log.take(), ["released wait::held", "async wait::held"]);
        bounded(holder).await.unwrap();
    });
}

#[test]
fn stop_async_where_stops_one_bucket() {
    serial_async(async {
        let log = Log::default();
        let web = async_state("bucket::web", &log);
        let db = sync_state("bucket::db", &log);
        bounded(web.get()).await;
        db.get();
        let report = bounded(lifecycle::stop_async_where(|s| s.name().ends_with("web")))
            .await
            .unwrap();
        assert_eq!(report.stopped, ["bucket::web"]);
        assert!(db.is_realized() && !web.is_realized());
        bounded(lifecycle::stop_async()).await.unwrap();
        assert_eq!(log.take(), ["async bucket::web", "sync bucket::db"]);
    });
}

#[test]
fn the_sync_stop_also_stops_async_states_in_the_same_order() {
    let _serial = serial();
    let runtime = runtime();
    let log = Log::default();
    let s1 = sync_state("sync-stop::s1", &log);
    // A stop that is runtime-agnostic: it runs on the stopping thread, outside the runtime.
    let a1 = AsyncState::new("sync-stop::a1", || async { Ok::<_, Error>(1) }).with_stop({
        let log = log.clone();
        move |_| {
            let log = log.clone();
            async move { log.push("async sync-stop::a1") }
        }
    });
    let s2 = sync_state("sync-stop::s2", &log);
    s1.get();
    runtime.block_on(async { bounded(a1.get()).await });
    s2.get();
    let report = lifecycle::stop().unwrap();
    assert_eq!(
        report.stopped,
        ["sync-stop::s2", "sync-stop::a1", "sync-stop::s1"]
    );
    assert_eq!(
        log.take(),
        [
            "sync sync-stop::s2",
            "async sync-stop::a1",
            "sync sync-stop::s1"
        ]
    );
}
