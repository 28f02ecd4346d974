//! `defresource!` places: `define` closes the previous value first, a failed start or close
//! leaves the place empty, guards keep a close waiting, and places are tracked and stopped
//! in one reverse order with states.

use lifecycle::prelude::*;
use lifecycle::{Error, State};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{logged_close, Log};

pub struct Server {
    port: u16,
    log: Log,
    fail_close: bool,
}

impl Server {
    fn start(log: &Log, port: u16) -> Server {
        log.push(format!("start {port}"));
        Server {
            port,
            log: log.clone(),
            fail_close: false,
        }
    }
}

impl Resource for Server {
    fn close(self) -> Result<(), Error> {
        let fails = self.fail_close.then_some("cannot close");
        logged_close(|line| self.log.push(line), self.port, fails)
    }
}

fn strings(entries: &[&str]) -> Vec<String> {
    entries.iter().map(|entry| (*entry).to_owned()).collect()
}

fn define(
    slot: &'static lifecycle::resource::Slot<Server>,
    log: &Log,
    port: u16,
) -> Result<(), Error> {
    let log = log.clone();
    slot.define(move || Ok::<_, Error>(Server::start(&log, port)))
}

defresource!(
    /// Redefined in a test.
    pub REDEFINED: Server
);

#[test]
fn define_closes_the_previous_value_before_starting_the_next() {
    let log = Log::default();
    assert!(REDEFINED.get().is_none());
    assert!(!REDEFINED.is_defined());
    define(&REDEFINED, &log, 1).unwrap();
    assert_eq!(REDEFINED.get().unwrap().port, 1);
    define(&REDEFINED, &log, 2).unwrap();
    assert_eq!(REDEFINED.get().unwrap().port, 2);
    REDEFINED.close().unwrap();
    assert!(REDEFINED.get().is_none());
    REDEFINED.close().unwrap(); // closing an empty place is fine
    assert_eq!(
        log.take(),
        strings(&["start 1", "close 1", "start 2", "close 2"])
    );
    assert_eq!(REDEFINED.name(), "defresource::REDEFINED");
}

defresource!(FAILING_START: Server);

#[test]
fn a_failed_start_leaves_the_place_empty_and_names_it() {
    let log = Log::default();
    define(&FAILING_START, &log, 1).unwrap();
    let error = FAILING_START
        .define(|| Err::<Server, _>("port taken"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "resource `defresource::FAILING_START` failed to open: port taken"
    );
    assert!(FAILING_START.get().is_none());
    let error = FAILING_START
        .define(|| -> Result<Server, Error> { panic!("start blew up") })
        .unwrap_err();
    assert!(
        matches!(&error, Error::StartPanicked { message, .. } if message == "start blew up"),
        "{error:?}"
    );
    assert!(FAILING_START.get().is_none());
    define(&FAILING_START, &log, 3).unwrap();
    FAILING_START.close().unwrap();
    assert_eq!(
        log.take(),
        strings(&["start 1", "close 1", "start 3", "close 3"])
    );
}

defresource!(FAILING_CLOSE: Server);

#[test]
fn a_failed_close_stops_the_define_and_empties_the_place() {
    let log = Log::default();
    let first = log.clone();
    FAILING_CLOSE
        .define(move || {
            let mut server = Server::start(&first, 1);
            server.fail_close = true;
            Ok::<_, Error>(server)
        })
        .unwrap();
    let error = define(&FAILING_CLOSE, &log, 2).unwrap_err();
    assert_eq!(
        error.to_string(),
        "resource `defresource::FAILING_CLOSE` failed to close: 1 cannot close"
    );
    assert_eq!(error.resource(), Some("defresource::FAILING_CLOSE"));
    assert!(FAILING_CLOSE.get().is_none());
    assert_eq!(log.take(), strings(&["start 1", "close 1"])); // 2 never started
    define(&FAILING_CLOSE, &log, 3).unwrap();
    FAILING_CLOSE.close().unwrap();
    assert_eq!(log.take(), strings(&["start 3", "close 3"]));
}

defresource!(GUARDED: Server);

#[test]
fn a_guard_keeps_close_waiting_so_the_value_never_dangles() {
    let log = Log::default();
    define(&GUARDED, &log, 1).unwrap();
    let (held, release) = std::sync::mpsc::channel();
    let reader = {
        let log = log.clone();
        std::thread::spawn(move || {
            let server = GUARDED.get().unwrap();
            held.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            log.push(format!("reader done with {}", server.port));
        })
    };
    release.recv().unwrap();
    let began = Instant::now();
    GUARDED.close().unwrap();
    assert!(began.elapsed() >= Duration::from_millis(100));
    reader.join().unwrap();
    assert_eq!(
        log.take(),
        strings(&["start 1", "reader done with 1", "close 1"])
    );
}

defresource!(TRACKED: Server);

#[test]
fn places_are_tracked_and_stopped_in_one_reverse_order_with_states() {
    let log = Log::default();
    let before = {
        let log = log.clone();
        State::new("defresource::ordered::before", || Ok(()))
            .with_stop(move |()| log.push("stop before"))
    };
    let after = {
        let log = log.clone();
        State::new("defresource::ordered::after", || Ok(()))
            .with_stop(move |()| log.push("stop after"))
    };
    before.get();
    define(&TRACKED, &log, 7).unwrap();
    after.get();
    let names: Vec<String> = lifecycle::status()
        .into_iter()
        .map(|state| state.name().to_owned())
        .filter(|name| name.contains("ordered") || name == "defresource::TRACKED")
        .collect();
    assert_eq!(
        names,
        [
            "defresource::ordered::before",
            "defresource::TRACKED",
            "defresource::ordered::after"
        ]
    );
    let report = lifecycle::stop_where(|state| {
        state.name().contains("ordered") || state.name() == "defresource::TRACKED"
    })
    .unwrap();
    assert_eq!(
        report.stopped,
        [
            "defresource::ordered::after",
            "defresource::TRACKED",
            "defresource::ordered::before"
        ]
    );
    assert_eq!(
        log.take(),
        strings(&["start 7", "stop after", "close 7", "stop before"])
    );
    assert!(TRACKED.get().is_none());
}

defresource!(STOPPED_WITH_FAILURE: Server);

#[test]
fn a_close_failing_under_stop_is_reported_and_the_place_can_be_defined_again() {
    let log = Log::default();
    let first = log.clone();
    STOPPED_WITH_FAILURE
        .define(move || {
            let mut server = Server::start(&first, 1);
            server.fail_close = true;
            Ok::<_, Error>(server)
        })
        .unwrap();
    let error = lifecycle::stop_where(|state| state.name() == "defresource::STOPPED_WITH_FAILURE")
        .unwrap_err();
    let Error::StopAll(report) = error else {
        panic!("{error:?}")
    };
    assert_eq!(report.failed.len(), 1);
    define(&STOPPED_WITH_FAILURE, &log, 2).unwrap();
    assert_eq!(STOPPED_WITH_FAILURE.get().unwrap().port, 2);
    STOPPED_WITH_FAILURE.close().unwrap();
    assert_eq!(
        log.take(),
        strings(&["start 1", "close 1", "start 2", "close 2"])
    );
}

defresource!(DEPENDENT: Server);

#[test]
fn restarting_a_state_the_start_read_closes_the_place_first() {
    let log = Log::default();
    let port = {
        let log = log.clone();
        Arc::new(
            State::new("defresource::port", || Ok(9000_u16))
                .with_stop(move |port| log.push(format!("stop port {port}"))),
        )
    };
    let reads = Arc::clone(&port);
    let start_log = log.clone();
    DEPENDENT
        .define(move || Ok::<_, Error>(Server::start(&start_log, *reads.get())))
        .unwrap();
    port.restart_alone().unwrap();
    assert!(DEPENDENT.get().is_none(), "the dependent place was closed");
    assert_eq!(
        log.take(),
        strings(&["start 9000", "close 9000", "stop port 9000"])
    );
    port.stop().unwrap();
}

mod several_and_renamed {
    extern crate lifecycle as lc;
    use super::Server;

    lc::defresource! {
        crate = lc;
        /// One.
        pub(crate) FIRST: Server;
        SECOND: lc::Closeable<u8>;
    }

    #[test]
    fn declares_each_place() {
        let log = super::Log::default();
        super::define(&FIRST, &log, 5).unwrap();
        SECOND
            .define(|| Ok::<_, lc::Error>(lc::closeable(8, |_| ())))
            .unwrap();
        assert_eq!(**SECOND.get().unwrap(), 8);
        assert_eq!(SECOND.name(), "defresource::several_and_renamed::SECOND");
        FIRST.close().unwrap();
        SECOND.close().unwrap();
        assert_eq!(log.take(), super::strings(&["start 5", "close 5"]));
    }
}
