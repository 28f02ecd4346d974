//! User code the library calls besides start and stop: a stop error whose `Display` panics,
//! for a sync and an async state. The state is never left stuck.

use crate::common::runtime;
use crate::{names, turn, within, INJECTED};
use lifecycle::{BoxError, Error, State};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

/// An error whose `Display` panics.
#[derive(Debug)]
struct Unprintable;

impl std::fmt::Display for Unprintable {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        INJECTED.fetch_add(1, SeqCst);
        panic!("injected fault: Display panicked")
    }
}

impl std::error::Error for Unprintable {}

#[test]
fn a_stop_error_whose_display_panics_does_not_leave_the_state_stuck() {
    let _turn = turn();
    let failing = Arc::new(AtomicBool::new(true));
    let knob = Arc::clone(&failing);
    let state = Arc::new(
        State::new("faults::unprintable", || Ok(1)).with_stop(move |_| {
            if knob.load(SeqCst) {
                Err::<(), BoxError>(Box::new(Unprintable))
            } else {
                Ok(())
            }
        }),
    );
    state.get();
    // The stop fails; whether `stop` returns the error or panics printing it, it must not
    // leave the state half-stopped.
    let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| state.stop().is_ok()));
    assert!(!matches!(stopped, Ok(true)), "the stop function failed");
    let reader = Arc::clone(&state);
    let read = within(
        Duration::from_secs(20),
        "a read after the stop",
        move || reader.try_get().map(|v| *v).is_ok(),
    );
    assert!(!read, "the value is gone until force_close");
    failing.store(false, SeqCst);
    state.force_close().unwrap();
    assert_eq!(*state.get(), 1);
    state.stop().unwrap();
    assert!(names(lifecycle::status()).is_empty());
}

#[test]
fn an_async_stop_error_whose_display_panics_does_not_leave_the_state_stuck() {
    let _turn = turn();
    let runtime = runtime();
    runtime.block_on(async {
        let failing = Arc::new(AtomicBool::new(true));
        let knob = Arc::clone(&failing);
        let state = Arc::new(
            lifecycle::AsyncState::new("faults::async-unprintable", || async { Ok::<_, Error>(1) })
                .with_stop(move |_| {
                    let failing = knob.load(SeqCst);
                    async move {
                        if failing {
                            Err::<(), BoxError>(Box::new(Unprintable))
                        } else {
                            Ok(())
                        }
                    }
                }),
        );
        state.get().await;
        let stopping = Arc::clone(&state);
        let stopped = tokio::spawn(async move { stopping.stop().await.is_ok() }).await;
        assert!(!matches!(stopped, Ok(true)), "the stop function failed");
        let read = tokio::time::timeout(Duration::from_secs(20), state.try_get())
            .await
            .expect("a read after the stop did not finish within 20 s: deadlock");
        assert!(read.is_err(), "the value is gone until force_close");
        failing.store(false, SeqCst);
        state.force_close().await.unwrap();
        assert_eq!(*state.get().await, 1);
        state.stop().await.unwrap();
    });
    assert!(names(lifecycle::status()).is_empty());
}
