//! User mutexes poisoned inside starts and stops: the user's error, not the library's.

use crate::{turn, INJECTED};
use lifecycle::{BoxError, Error, State};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};

#[test]
fn a_user_mutex_poisoned_inside_a_start_or_stop_is_the_users_error_not_the_librarys() {
    let _turn = turn();
    let config = Arc::new(Mutex::new(String::from("v1")));
    let panic_in_start = Arc::new(AtomicBool::new(true));
    let panic_in_stop = Arc::new(AtomicBool::new(false));
    let (start_config, stop_config) = (Arc::clone(&config), Arc::clone(&config));
    let (start_knob, stop_knob) = (Arc::clone(&panic_in_start), Arc::clone(&panic_in_stop));
    let state = State::new("faults::poisoned", move || {
        let config = start_config.lock().map_err(|poisoned| {
            format!("config lock poisoned (it held {:?})", **poisoned.get_ref())
        })?;
        if start_knob.swap(false, SeqCst) {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: panicked holding the config lock");
        }
        Ok(config.clone())
    })
    .with_stop(move |_| -> Result<(), BoxError> {
        let _config = stop_config
            .lock()
            .map_err(|_| "config lock poisoned while stopping")?;
        if stop_knob.swap(false, SeqCst) {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: panicked in stop holding the config lock");
        }
        Ok(())
    });
    // The start panics holding the user's lock: the user's mutex is poisoned, not the state.
    let error = state.try_get().unwrap_err();
    assert!(matches!(error, Error::StartPanicked { .. }), "{error}");
    assert!(config.is_poisoned());
    // The next start sees the poisoned lock and says so, as an ordinary start error.
    let error = state.try_get().unwrap_err().to_string();
    assert!(
        error.contains("config lock poisoned (it held \"v1\")"),
        "{error}"
    );
    assert!(!state.is_realized());
    // The library is fine meanwhile.
    let unrelated = State::new("faults::poisoned-unrelated", || Ok(1));
    assert_eq!(*unrelated.get(), 1);
    unrelated.stop().unwrap();
    // Once the user clears the poison, it starts.
    config.clear_poison();
    assert_eq!(*state.get(), "v1");

    // The same in a stop: the stop panics holding the lock, the next stop reports it.
    panic_in_stop.store(true, SeqCst);
    assert!(matches!(
        state.stop().unwrap_err(),
        Error::StopPanicked { .. }
    ));
    state.force_close().unwrap();
    assert!(config.is_poisoned());
    // Poisoned: the start refuses (as written by the user); clear it and go on.
    assert!(state.try_get().is_err());
    config.clear_poison();
    state.get();
    // Poisoned elsewhere, seen by the stop: an ordinary stop error, cleared by force_close.
    std::thread::scope(|s| {
        s.spawn(|| {
            let _held = config.lock().unwrap();
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: a user thread panicked holding the config lock");
        })
        .join()
        .unwrap_err();
    });
    let error = state.stop().unwrap_err().to_string();
    assert!(
        error.contains("config lock poisoned while stopping"),
        "{error}"
    );
    state.force_close().unwrap();
    config.clear_poison();
    assert_eq!(*state.get(), "v1");
    state.stop().unwrap();
}
