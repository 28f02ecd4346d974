//! `lifecycle::stop()` over every state: reverse order, every state tried, every failure
//! reported. Its own test binary, because `stop()` stops every state of the process.

mod common;

use common::{serial, Log};
use lifecycle::{BoxError, Error, State};
use std::sync::{Arc, Mutex};

fn logged(name: &'static str, log: &Log, fail: Option<&'static str>) -> State<&'static str> {
    let log = log.clone();
    State::new(name, move || Ok(name)).with_stop(move |value| {
        log.push(value);
        match fail {
            Some("panic") => panic!("{value} exploded"),
            Some(message) => Err::<(), BoxError>(message.into()),
            None => Ok(()),
        }
    })
}

#[test]
fn stop_goes_in_exact_reverse_realization_order_and_names_what_it_stopped() {
    let _serial = serial();
    let log = Log::default();
    let a = Arc::new(logged("all::a", &log, None));
    let b = logged("all::b", &log, None);
    let c_dep = Arc::clone(&a);
    let c = State::new("all::c", move || Ok(*c_dep.get())).with_stop({
        let log = log.clone();
        move |_| log.push("all::c")
    });
    b.get();
    c.get(); // realizes a inside c's start: order b, a, c
    let report = lifecycle::stop().unwrap();
    assert_eq!(report.stopped, ["all::c", "all::a", "all::b"]);
    assert_eq!(log.take(), ["all::c", "all::a", "all::b"]);
    assert!(lifecycle::status().is_empty());
    assert!(!a.is_realized() && !b.is_realized() && !c.is_realized());
}

#[test]
fn stop_tries_every_state_and_reports_every_failure() {
    let _serial = serial();
    let log = Log::default();
    let states = [
        logged("all::first", &log, None),
        logged("all::failing", &log, Some("disk full")),
        logged("all::middle", &log, None),
        logged("all::panicking", &log, Some("panic")),
        logged("all::last", &log, None),
    ];
    for state in &states {
        state.get();
    }
    let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
        panic!("not StopAll")
    };
    assert_eq!(
        log.take(),
        [
            "all::last",
            "all::panicking",
            "all::middle",
            "all::failing",
            "all::first"
        ]
    );
    assert_eq!(report.stopped, ["all::last", "all::middle", "all::first"]);
    let failed: Vec<&str> = report
        .failed
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(failed, ["all::panicking", "all::failing"]);
    assert!(
        matches!(&report.failed[0].1, Error::StopPanicked { message, .. } if message == "all::panicking exploded")
    );
    assert!(matches!(&report.failed[1].1, Error::Stop { .. }));
    let message = Error::StopAll(report).to_string();
    assert!(
        message.contains("2 of 5 states failed to stop"),
        "{message}"
    );
    assert!(message.contains("disk full"), "{message}");
    assert!(
        message.contains("stopped: all::last, all::middle, all::first"),
        "{message}"
    );

    // The failed ones are not cleared: their value is gone, get says so, stop says so again.
    let error = states[1].try_get().unwrap_err();
    assert!(
        matches!(&error, Error::StopFailedEarlier { state, .. } if state == "all::failing"),
        "{error}"
    );
    assert!(error.to_string().contains("force_close"));
    assert_eq!(lifecycle::status().len(), 2);
    assert!(lifecycle::stop().is_err());
    log.take();

    // force_close clears them; after that they start again.
    states[1].force_close().unwrap();
    states[3].force_close().unwrap();
    assert!(lifecycle::status().is_empty());
    assert_eq!(*states[1].get(), "all::failing");
    // force_close on a realized state whose stop fails clears it anyway.
    states[1].force_close().unwrap();
    assert!(!states[1].is_realized());
    assert_eq!(log.take(), ["all::failing"]);
    lifecycle::stop().unwrap();
}

#[test]
fn stop_where_stops_only_a_bucket() {
    let _serial = serial();
    let web = common::in_bucket!("all::web", "web", 1);
    let db = State::new("all::db", || Ok(2));
    web.get();
    db.get();
    let report = lifecycle::stop_where(|s| s.meta("bucket") == Some("web")).unwrap();
    assert_eq!(report.stopped, ["all::web"]);
    assert!(!web.is_realized());
    assert!(db.is_realized());
    lifecycle::stop().unwrap();
}

#[test]
fn a_stop_that_never_returns_is_reported_and_does_not_block_the_others() {
    let _serial = serial();
    let log = Log::default();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Mutex::new(released);
    let before = logged("all::before-stuck", &log, None);
    let stuck = State::new("all::stuck", || Ok(1)).with_stop(move |_| {
        released.lock().unwrap().recv().unwrap(); // blocks until the test releases it
    });
    let after = logged("all::after-stuck", &log, None);
    before.get();
    stuck.get();
    after.get();

    lifecycle::set_stop_timeout(std::time::Duration::from_millis(100));
    let began = std::time::Instant::now();
    let result = lifecycle::stop();
    lifecycle::set_stop_timeout(std::time::Duration::from_secs(10));
    assert!(began.elapsed() < std::time::Duration::from_secs(5));
    let Error::StopAll(report) = result.unwrap_err() else {
        panic!("not StopAll")
    };
    assert_eq!(report.stopped, ["all::after-stuck", "all::before-stuck"]);
    assert!(
        matches!(&report.failed[..], [(name, Error::StopTimedOut { .. })] if name == "all::stuck")
    );
    assert_eq!(log.take(), ["all::after-stuck", "all::before-stuck"]);

    // Readers are told, not blocked.
    let error = stuck.try_get().unwrap_err();
    assert!(matches!(error, Error::StopFailedEarlier { .. }), "{error}");

    // When the stuck stop finally returns, the state ends up cleanly stopped.
    release.send(()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !lifecycle::status().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(lifecycle::status().is_empty());
    assert_eq!(*stuck.get(), 1);
    release.send(()).unwrap(); // its next stop returns at once
    lifecycle::stop().unwrap();
}

#[test]
fn stop_reports_a_state_this_thread_holds_at_once_and_stops_the_rest() {
    let _serial = serial();
    let held = State::new("all::held", || Ok(1));
    let other = State::new("all::other", || Ok(2));
    let guard = held.get();
    other.get();
    let began = std::time::Instant::now();
    let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
        panic!("not StopAll")
    };
    assert!(began.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(report.stopped, ["all::other"]);
    assert!(
        matches!(&report.failed[..], [(name, Error::HeldByCurrentThread { .. })] if name == "all::held")
    );
    drop(guard);
    lifecycle::stop().unwrap();
}
