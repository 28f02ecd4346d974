//! Stops (or a value's `Drop`) that fail or panic, at any position and by every way of
//! stopping: reported, the failed state says so until `force_close`, and the chain recovers.

use crate::chain::{inject, kind_name, Chain, DROP_PANIC, FAIL, PANIC, POSITIONS};
use crate::{names, turn, INJECTED};
use lifecycle::{Error, State};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

#[derive(Clone, Copy, Debug)]
enum Trigger {
    StopAll,
    StopOne,
    Restart,
    ForceClose,
}

#[test]
fn a_failing_or_panicking_stop_or_drop_at_any_position_is_reported_and_recovered_from() {
    let _turn = turn();
    for (position, at) in POSITIONS.iter().enumerate() {
        for kind in [FAIL, PANIC, DROP_PANIC] {
            for trigger in [
                Trigger::StopAll,
                Trigger::StopOne,
                Trigger::Restart,
                Trigger::ForceClose,
            ] {
                let scenario = format!("stop {} at {at} by {trigger:?}", kind_name(kind));
                let chain = Chain::new(&format!("stop-{kind}-{position}-{trigger:?}"));
                chain.last().get();
                chain.knobs[position].stop.store(kind, SeqCst);
                let faulty = chain.names[position].clone();
                let check_error = |error: &Error| match kind {
                    FAIL => assert!(
                        matches!(error, Error::Stop { state, .. } if *state == faulty),
                        "{scenario}: {error:?}"
                    ),
                    _ => assert!(
                        matches!(error, Error::StopPanicked { state, message }
                            if *state == faulty && message.starts_with("injected fault")),
                        "{scenario}: {error:?}"
                    ),
                };
                match trigger {
                    Trigger::StopAll => {
                        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
                            panic!("{scenario}: not StopAll")
                        };
                        // Every state was tried, in reverse order; only the faulty one failed.
                        assert_eq!(
                            chain.ours(&report.stopped),
                            chain.reversed(Some(position)),
                            "{scenario}"
                        );
                        assert_eq!(report.failed.len(), 1, "{scenario}: {report}");
                        assert_eq!(report.failed[0].0, faulty);
                        check_error(&report.failed[0].1);
                        assert_eq!(chain.realized(), [false; 3], "{scenario}");
                        assert_eq!(chain.counts().1, [1, 1, 1], "{scenario}");
                        // The faulty one says so until it is cleared, and so do its dependents.
                        let error = chain.states[position].try_get().unwrap_err();
                        assert!(
                            matches!(&error, Error::StopFailedEarlier { state, .. } if *state == faulty),
                            "{scenario}: {error}"
                        );
                        let error = chain.last().try_get().unwrap_err().to_string();
                        assert!(error.contains("force_close"), "{scenario}: {error}");
                        // A second stop() still reports it (it is not silently forgotten).
                        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
                            panic!("{scenario}: not StopAll")
                        };
                        assert_eq!(report.failed.len(), 1, "{scenario}: {report}");
                        assert!(matches!(
                            report.failed[0].1,
                            Error::StopFailedEarlier { .. }
                        ));
                    }
                    Trigger::StopOne => {
                        check_error(&chain.states[position].stop().unwrap_err());
                        let expected: Vec<bool> = (0..3).map(|i| i != position).collect();
                        assert_eq!(chain.realized(), expected, "{scenario}");
                        // Dependents keep their values; they were not stopped.
                        if position < 2 {
                            assert!(chain.last().get().open.load(SeqCst), "{scenario}");
                        }
                    }
                    Trigger::Restart => {
                        // Restarting `first` stops `last`, then `middle`, then `first`, and
                        // gives up at the faulty one.
                        check_error(&chain.first().restart().unwrap_err());
                        let expected: Vec<bool> = (0..3).map(|i| i < position).collect();
                        assert_eq!(chain.realized(), expected, "{scenario}");
                    }
                    Trigger::ForceClose => {
                        chain.states[position].force_close().unwrap();
                        assert!(!chain.states[position].is_realized(), "{scenario}");
                        // Cleared: it starts again at once, even with the stop still broken.
                        assert!(chain.states[position].try_get().is_ok(), "{scenario}");
                    }
                }
                chain.assert_balanced(&scenario);
                chain.assert_usable(&scenario);
            }
        }
    }
}

#[test]
fn a_value_whose_drop_panics_without_a_stop_function_is_a_failed_stop() {
    let _turn = turn();
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: Bomb dropped");
        }
    }
    let state = State::new("faults::bomb", || Ok(Bomb));
    state.get();
    let error = state.stop().unwrap_err();
    assert!(
        matches!(&error, Error::StopPanicked { message, .. } if message == "injected fault: Bomb dropped"),
        "{error}"
    );
    state.force_close().unwrap();
    state.get();
    state.force_close().unwrap(); // panics in Drop again, cleared anyway
    assert!(!state.is_realized());
    assert!(names(lifecycle::status()).is_empty());
}

#[test]
fn dropping_a_local_state_whose_stop_fails_does_not_leave_it_tracked() {
    let _turn = turn();
    for (kind, stopped_before) in [(FAIL, false), (PANIC, false), (FAIL, true), (PANIC, true)] {
        let knob = Arc::new(AtomicU8::new(kind));
        let on_stop = Arc::clone(&knob);
        let stops = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&stops);
        let state = State::new("faults::dropped-failing", || Ok(1)).with_stop(move |_| {
            counted.fetch_add(1, SeqCst);
            inject(&on_stop, "stop of faults::dropped-failing")
        });
        state.get();
        if stopped_before {
            // Failed earlier: unrealized, but waiting for a `force_close`.
            assert!(state.stop().is_err());
            assert!(!state.is_realized());
        }
        // Dropping a realized local state stops it; its stop fails (reported to watchers
        // and `tracing`), and nobody can call `force_close` on it any more.
        drop(state);
        assert_eq!(stops.load(SeqCst), 1, "{}", kind_name(kind));
        assert!(
            names(lifecycle::status()).is_empty(),
            "a dropped state is still tracked after its stop failed ({})",
            kind_name(kind)
        );
        lifecycle::stop().expect("nothing left to fail");
    }
}
