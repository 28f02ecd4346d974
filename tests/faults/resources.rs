//! Resources: systems, `defresource!` places and `close_on_shutdown`, whose opens and closes
//! (or a part's `Drop`) fail or panic: what was opened is closed in reverse, failures are
//! reported and nothing is left tracked.
//!
//! (The module keeps the name `resources`: `defresource!` names its place after the module
//! path, `faults::resources::SERVER`, as before the split.)

use crate::chain::{inject, kind_name, DROP_PANIC, FAIL, OK, PANIC};
use crate::common::Log;
use crate::{names, turn, INJECTED};
use lifecycle::prelude::*;
use lifecycle::BoxError;
use std::sync::atomic::{AtomicU8, Ordering::SeqCst};
use std::sync::Arc;

/// How each of a system's three parts misbehaves, and what happened.
#[derive(Default)]
pub struct Plan {
    open: [AtomicU8; 3],
    close: [AtomicU8; 3],
    log: Log,
}

impl Plan {
    fn reset(&self) {
        for knob in self.open.iter().chain(&self.close) {
            knob.store(OK, SeqCst);
        }
        self.log.take();
    }
}

pub struct Part {
    position: usize,
    plan: Arc<Plan>,
}

impl Part {
    fn open(plan: &Arc<Plan>, position: usize) -> Result<Part, BoxError> {
        inject(&plan.open[position], &format!("open of part {position}"))?;
        plan.log.push(format!("open {position}"));
        Ok(Part {
            position,
            plan: Arc::clone(plan),
        })
    }
}

impl Resource for Part {
    fn close(self) -> Result<(), Error> {
        self.plan.log.push(format!("close {}", self.position));
        inject(
            &self.plan.close[self.position],
            &format!("close of part {}", self.position),
        )
        .map_err(Error::from)
        // `self` drops here: its `Drop` may panic.
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        if self.plan.close[self.position].load(SeqCst) == DROP_PANIC && !std::thread::panicking() {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: part {} panicked in Drop", self.position);
        }
    }
}

mk_system! {
    pub struct Faulty(plan: &Arc<Plan>) {
        pub a: Part = Part::open(plan, 0)?,
        pub b: Part = Part::open(plan, 1)?,
        pub c: Part = Part::open(plan, 2)?,
    }
}

const PARTS: [&str; 3] = ["Faulty.a", "Faulty.b", "Faulty.c"];

fn opened_then_closed(opened: usize) -> Vec<String> {
    let mut log: Vec<String> = (0..opened).map(|i| format!("open {i}")).collect();
    log.extend((0..opened).rev().map(|i| format!("close {i}")));
    log
}

fn assert_usable(plan: &Arc<Plan>, scenario: &str) {
    plan.reset();
    let system = Faulty::start(plan).unwrap_or_else(|e| panic!("{scenario}: {e}"));
    system.close().unwrap_or_else(|e| panic!("{scenario}: {e}"));
    assert_eq!(plan.log.take(), opened_then_closed(3), "{scenario}");
}

#[test]
fn a_failing_or_panicking_open_at_any_part_closes_the_earlier_ones_in_reverse() {
    let _turn = turn();
    let plan = Arc::new(Plan::default());
    for (position, part) in PARTS.iter().enumerate() {
        for kind in [FAIL, PANIC] {
            // Also with every earlier part failing to close during the rollback.
            for failing_closes in [false, true] {
                let scenario = format!(
                    "open {} at {} (rollback closes fail: {failing_closes})",
                    kind_name(kind),
                    part
                );
                plan.reset();
                plan.open[position].store(kind, SeqCst);
                if failing_closes {
                    for earlier in 0..position {
                        plan.close[earlier].store(FAIL, SeqCst);
                    }
                }
                let outcome = std::panic::catch_unwind(|| Faulty::start(&plan));
                match (kind, outcome) {
                    (FAIL, Ok(Err(error))) => {
                        let (start_error, close_errors) = match &error {
                            Error::Rollback {
                                error,
                                close_errors,
                            } => (&**error, close_errors.len()),
                            error => (error, 0),
                        };
                        assert!(
                            matches!(start_error, Error::Open { resource, .. } if resource == *part),
                            "{scenario}: {error:?}"
                        );
                        let expected = if failing_closes { position } else { 0 };
                        assert_eq!(close_errors, expected, "{scenario}: {error:?}");
                    }
                    (PANIC, Err(payload)) => {
                        let message = payload.downcast_ref::<String>().unwrap();
                        assert!(message.starts_with("injected fault"), "{scenario}");
                    }
                    (_, outcome) => panic!("{scenario}: {:?}", outcome.map(|r| r.err())),
                }
                assert_eq!(plan.log.take(), opened_then_closed(position), "{scenario}");
                assert_usable(&plan, &scenario);
            }
        }
    }
}

#[test]
fn a_failing_or_panicking_close_at_any_part_still_closes_every_part() {
    let _turn = turn();
    let plan = Arc::new(Plan::default());
    for (position, part) in PARTS.iter().enumerate() {
        for kind in [FAIL, PANIC, DROP_PANIC] {
            for by_drop in [false, true] {
                let scenario = format!(
                    "close {} at {} by {}",
                    kind_name(kind),
                    part,
                    if by_drop { "drop" } else { "close()" }
                );
                plan.reset();
                let system = Faulty::start(&plan).unwrap();
                plan.close[position].store(kind, SeqCst);
                if by_drop {
                    // Dropping closes in reverse and reports failures to `tracing`; a
                    // panicking close never escapes the destructor.
                    std::panic::catch_unwind(AssertUnwindSafe(|| drop(system)))
                        .unwrap_or_else(|_| panic!("{scenario}: drop panicked"));
                } else {
                    let error = system.close().unwrap_err();
                    let resource = match &error {
                        Error::Close { resource, .. } => resource,
                        Error::ClosePanicked { resource, message } => {
                            assert!(message.starts_with("injected fault"), "{scenario}");
                            resource
                        }
                        other => panic!("{scenario}: {other:?}"),
                    };
                    assert_eq!(resource, part, "{scenario}");
                }
                let mut expected = opened_then_closed(3);
                expected.drain(..3);
                let closes: Vec<String> = plan
                    .log
                    .take()
                    .into_iter()
                    .filter(|l| l.starts_with("close"))
                    .collect();
                assert_eq!(closes, expected, "{scenario}");
                assert_usable(&plan, &scenario);
            }
        }
    }
}

use std::panic::AssertUnwindSafe;

fn failing_state(name: &'static str, stop: Arc<AtomicU8>) -> Result<State<u32>, Error> {
    let state =
        State::new(name, || Ok(1)).with_stop(move |_| inject(&stop, &format!("stop of {name}")));
    state.try_get().map(drop)?;
    Ok(state)
}

mk_system! {
    pub struct WithState(plan: &Arc<Plan>, stop: &Arc<AtomicU8>) {
        pub db: State<u32> = failing_state("faults::system-db", Arc::clone(stop))?,
        pub server: Part = Part::open(plan, 0)?,
    }
}

#[test]
fn a_state_in_a_system_whose_stop_fails_is_reported_and_not_left_tracked() {
    let _turn = turn();
    let plan = Arc::new(Plan::default());
    for kind in [FAIL, PANIC] {
        let stop = Arc::new(AtomicU8::new(OK));
        let system = WithState::start(&plan, &stop).unwrap();
        assert_eq!(names(lifecycle::status()), ["faults::system-db"]);
        stop.store(kind, SeqCst);
        let error = system.close().unwrap_err().to_string();
        assert!(error.contains("faults::system-db"), "{error}");
        assert!(error.contains("injected fault"), "{error}");
        assert_eq!(plan.log.take(), ["open 0", "close 0"]);
        assert!(
            names(lifecycle::status()).is_empty(),
            "the system's state is gone with the system"
        );
        lifecycle::stop().unwrap();
    }
}

/// A `defresource!` place's value; its close fails or panics on command.
pub struct Server {
    close: Arc<AtomicU8>,
}

impl Resource for Server {
    fn close(self) -> Result<(), Error> {
        inject(&self.close, "close of faults::SERVER").map_err(Error::from)
    }
}

defresource!(SERVER: Server);

#[test]
fn a_place_whose_close_fails_in_stop_all_is_reported_and_can_be_defined_again() {
    let _turn = turn();
    for kind in [FAIL, PANIC] {
        let close = Arc::new(AtomicU8::new(kind));
        let knob = Arc::clone(&close);
        SERVER
            .define(move || Ok::<_, Error>(Server { close: knob }))
            .unwrap();
        let other = State::new("faults::next-to-server", || Ok(1));
        other.get();
        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
            panic!("not StopAll")
        };
        assert_eq!(report.stopped, ["faults::next-to-server"], "{report}");
        assert_eq!(report.failed.len(), 1, "{report}");
        assert!(report.failed[0].0.ends_with("SERVER"), "{report}");
        assert!(!SERVER.is_defined());
        // The place is usable again: define clears the failure first.
        close.store(OK, SeqCst);
        let knob = Arc::clone(&close);
        SERVER
            .define(move || Ok::<_, Error>(Server { close: knob }))
            .unwrap();
        assert!(SERVER.is_defined());
        SERVER.close().unwrap();
        lifecycle::stop().unwrap();
    }
}

#[test]
fn a_close_on_shutdown_resource_whose_close_panics_is_reported_and_the_rest_stop() {
    let _turn = turn();
    let closed = Log::default();
    let log = closed.clone();
    let before = State::new("faults::before-shutdown-resource", || Ok(1));
    before.get();
    lifecycle::close_on_shutdown(closeable((), |()| -> Result<(), Error> {
        INJECTED.fetch_add(1, SeqCst);
        panic!("injected fault: close on shutdown")
    }));
    lifecycle::close_on_shutdown(closeable((), move |()| log.push("closed")));
    let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
        panic!("not StopAll")
    };
    assert_eq!(report.stopped.len(), 2, "{report}");
    assert_eq!(report.stopped[1], "faults::before-shutdown-resource");
    assert!(matches!(
        &report.failed[..],
        [(_, Error::ClosePanicked { message, .. })] if message == "injected fault: close on shutdown"
    ));
    assert_eq!(closed.take(), ["closed"]);
    assert!(names(lifecycle::status()).is_empty());
    lifecycle::stop().unwrap();
}
