//! `State<T>` through the public API: laziness, caching, failed starts, printing, bind,
//! redefine, watch events, local drop.

mod common;

use common::{events_of, Log};
use lifecycle::{BoxError, Error, Event, Redefine, State};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

fn counting(name: &'static str, starts: &Arc<AtomicUsize>) -> State<usize> {
    let starts = Arc::clone(starts);
    State::new(name, move || Ok(starts.fetch_add(1, SeqCst) + 1))
}

#[test]
fn nothing_starts_until_the_first_get_and_later_gets_are_cached() {
    let starts = Arc::new(AtomicUsize::new(0));
    let state = counting("basics::lazy", &starts);
    assert_eq!(starts.load(SeqCst), 0);
    assert!(!state.is_realized());
    assert!(state.peek().is_none(), "peek never starts");
    assert_eq!(starts.load(SeqCst), 0);

    assert_eq!(*state.get(), 1);
    assert_eq!(*state.get(), 1);
    assert_eq!(*state.try_get().unwrap(), 1);
    assert_eq!(*state.get_owned(), 1);
    assert_eq!(starts.load(SeqCst), 1);
    assert!(state.is_realized());
    assert_eq!(state.peek().as_deref(), Some(&1));
}

#[test]
fn stop_clears_the_value_and_the_next_get_starts_again() {
    let starts = Arc::new(AtomicUsize::new(0));
    let log = Log::default();
    let stops = log.clone();
    let state = counting("basics::restartable", &starts)
        .with_stop(move |value| stops.push(format!("stop {value}")));
    assert_eq!(*state.get(), 1);
    state.stop().unwrap();
    assert!(!state.is_realized());
    assert_eq!(log.take(), ["stop 1"]);
    state.stop().unwrap(); // not realized: Ok, and the stop function does not run again
    assert!(log.take().is_empty());
    assert_eq!(*state.get(), 2);
}

#[test]
fn a_failed_start_leaves_the_state_unrealized_and_the_next_get_retries() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&attempts);
    let state: State<&str> = State::new("basics::flaky", move || {
        if counter.fetch_add(1, SeqCst) == 0 {
            Err::<_, BoxError>("disk not mounted".into())
        } else {
            Ok("mounted")
        }
    });
    let error = state.try_get().unwrap_err();
    assert!(matches!(&error, Error::Start { state, .. } if state == "basics::flaky"));
    let cause = std::error::Error::source(&error)
        .expect("the cause is attached")
        .to_string();
    assert_eq!(cause, "disk not mounted");
    assert!(!state.is_realized());
    assert_eq!(*state.get(), "mounted");
    assert_eq!(attempts.load(SeqCst), 2);
}

#[test]
fn get_panics_with_the_state_name_and_the_cause() {
    let state: State<u8> = State::new("basics::broken", || Err("no config file".into()));
    let panic = std::panic::catch_unwind(|| *state.get()).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("basics::broken"), "{message}");
    assert!(message.contains("no config file"), "{message}");
}

#[test]
fn a_panicking_start_does_not_poison_the_state() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&attempts);
    let state = State::new("basics::panicky", move || {
        assert!(counter.fetch_add(1, SeqCst) != 0, "first start explodes");
        Ok(7)
    });
    let error = state.try_get().unwrap_err();
    assert!(
        matches!(&error, Error::StartPanicked { state, message }
            if state == "basics::panicky" && message.contains("first start explodes")),
        "{error}"
    );
    assert!(!state.is_realized());
    assert_eq!(*state.get(), 7);
}

#[test]
fn printing_never_starts_a_state() {
    let starts = Arc::new(AtomicUsize::new(0));
    let state = counting("basics::printed", &starts);
    let debug = format!("{state:?}");
    assert!(debug.starts_with("#<State@0x"), "{debug}");
    assert!(debug.ends_with("[basics::printed]: unrealized>"), "{debug}");
    assert_eq!(format!("{state}"), debug);
    assert_eq!(starts.load(SeqCst), 0);
    state.get();
    assert!(format!("{state}").ends_with("[basics::printed]: 1>"));
}

#[test]
fn bind_substitutes_on_this_thread_only_until_the_guard_drops() {
    let state = State::new("basics::bound", || Ok(String::from("real")));
    assert_eq!(*state.get(), "real");
    {
        let _outer = state.bind(String::from("outer"));
        assert_eq!(*state.get(), "outer");
        {
            let _inner = state.bind(String::from("inner"));
            assert_eq!(*state.get(), "inner");
            assert_eq!(*state.get_owned(), "inner");
            std::thread::scope(|s| {
                s.spawn(|| assert_eq!(*state.get(), "real", "other threads see the real value"));
            });
        }
        assert_eq!(*state.get(), "outer");
    }
    assert_eq!(*state.get(), "real");
}

#[test]
fn bind_works_on_a_state_that_never_started() {
    let starts = Arc::new(AtomicUsize::new(0));
    let state = counting("basics::bound-unstarted", &starts);
    let _bound = state.bind(99);
    assert_eq!(*state.get(), 99);
    assert_eq!(starts.load(SeqCst), 0);
}

#[test]
fn redefine_is_skipped_while_active_and_applies_when_stopped() {
    let state = State::new("basics::redefined", || Ok(1));
    let seen = events_of("basics::redefined", || {
        state.get();
        assert_eq!(state.redefine(|| Ok(2), drop), Redefine::Skipped);
        assert_eq!(*state.get(), 1);
        state.stop().unwrap();
        assert_eq!(state.redefine(|| Ok(3), drop), Redefine::Applied);
        assert_eq!(*state.get(), 3);
    });
    assert!(
        seen.contains(&"RedefineSkipped basics::redefined".to_owned()),
        "{seen:?}"
    );
}

#[test]
fn watchers_see_every_event_in_order() {
    let state: State<u32> = State::new("basics::watched", || Ok(5))
        .with_stop(|_| Err::<(), BoxError>("flush failed".into()));
    let failing: State<u32> = State::new("basics::watched-failing", || Err("nope".into()));
    let seen = events_of("basics::watched", || {
        state.get();
        state.stop().unwrap_err();
        state.force_close().unwrap();
        failing.try_get().unwrap_err();
    });
    assert_eq!(
        seen,
        [
            "Starting basics::watched",
            "Started basics::watched",
            "Stopping basics::watched",
            "StopFailed(\"state `basics::watched` failed to stop: flush failed\") basics::watched",
            "Stopped basics::watched",
            "Starting basics::watched-failing",
            "StartFailed(\"state `basics::watched-failing` failed to start: nope\") basics::watched-failing",
        ]
    );
    assert!(!lifecycle::unwatch("never-registered"));
}

#[test]
fn a_panicking_watcher_does_not_break_the_state() {
    lifecycle::watch("basics::panicking-watcher", |event, state| {
        if state.name() == "basics::watched-by-panicker" && *event == Event::Started {
            panic!("watcher bug");
        }
    });
    let state = State::new("basics::watched-by-panicker", || Ok(1));
    assert_eq!(*state.get(), 1);
    state.stop().unwrap();
    assert!(lifecycle::unwatch("basics::panicking-watcher"));
}

#[test]
fn dropping_a_realized_local_state_stops_it_and_untracks_it() {
    let log = Log::default();
    let stops = log.clone();
    let state = State::new("basics::dropped", || Ok(1)).with_stop(move |_| stops.push("stopped"));
    state.get();
    assert!(common::is_listed("basics::dropped"));
    drop(state);
    assert_eq!(log.take(), ["stopped"]);
    assert!(!common::is_listed("basics::dropped"));
}

#[test]
fn states_are_first_class_values() {
    let states: Vec<State<usize>> = (0..3)
        .map(|i| State::new(format!("basics::vec-{i}"), move || Ok(i * 10)))
        .collect();
    let sum: usize = states.iter().map(|s| *s.get()).sum();
    assert_eq!(sum, 30);
    assert_eq!(states[2].name(), "basics::vec-2");
}

#[test]
fn meta_and_info_describe_the_state() {
    let state = common::in_bucket!("basics::meta", "web", 1);
    assert_eq!(state.meta("bucket"), Some("web"));
    assert_eq!(state.meta("missing"), None);
    assert_eq!(state.info().file(), file!());
}
