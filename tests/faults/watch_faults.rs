//! Watch callbacks that panic at any event, or use the library during one: nothing changes,
//! nothing deadlocks.

use crate::chain::{Chain, FAIL, POSITIONS};
use crate::common::Log;
use crate::{turn, within, INJECTED};
use lifecycle::{Event, State};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

fn event_name(event: &Event) -> String {
    let debug = format!("{event:?}");
    debug.split('(').next().unwrap_or_default().to_owned()
}

/// Drives a chain through every event of the state at `position`: a failed start, a start,
/// a failed stop, a force_close, a restart and a stop of everything.
fn every_event(chain: &Chain, position: usize, scenario: &str) {
    chain.knobs[position].start.store(FAIL, SeqCst);
    assert!(chain.last().try_get().is_err(), "{scenario}");
    chain.disarm();
    chain.last().get();
    chain.knobs[position].stop.store(FAIL, SeqCst);
    assert!(chain.states[position].stop().is_err(), "{scenario}");
    chain.states[position].force_close().unwrap();
    chain.disarm();
    chain.assert_usable(scenario);
}

/// Every event a watcher sees, by the name of its variant.
const EVENTS: [&str; 6] = [
    "Starting",
    "Started",
    "StartFailed",
    "Stopping",
    "Stopped",
    "StopFailed",
];

#[test]
fn a_panicking_watch_callback_at_any_event_and_position_changes_nothing() {
    let _turn = turn();
    for (position, at) in POSITIONS.iter().enumerate() {
        for event in EVENTS {
            let scenario = format!("watcher panics on {event} of {at}");
            let chain = Chain::new(&format!("watch-{event}-{position}"));
            let target = chain.names[position].clone();
            let fired = Arc::new(AtomicUsize::new(0));
            let count = Arc::clone(&fired);
            lifecycle::watch("faults::panicking", move |seen, info| {
                if info.name() == target && event_name(seen) == event {
                    count.fetch_add(1, SeqCst);
                    INJECTED.fetch_add(1, SeqCst);
                    panic!("injected fault: watcher on {event}");
                }
            });
            every_event(&chain, position, &scenario);
            assert!(lifecycle::unwatch("faults::panicking"));
            assert!(
                fired.load(SeqCst) > 0,
                "{scenario}: the watcher never fired"
            );
        }
    }
}

#[test]
fn a_watch_callback_may_use_the_library_during_any_event() {
    let _turn = turn();
    // A callback that reads states, lists them, prints them, and watches and unwatches
    // during every event of every state: nothing deadlocks, nothing changes.
    let chain = Arc::new(Chain::new("watch-reentrant"));
    let other = Arc::new(State::new("faults::watch-reentrant-other", || Ok(5)));
    let seen = Log::default();
    let (sink, chain_in, other_in) = (seen.clone(), Arc::clone(&chain), Arc::clone(&other));
    lifecycle::watch("faults::reentrant", move |event, info| {
        if !info.name().starts_with(&chain_in.prefix) {
            return;
        }
        let _ = lifecycle::status();
        let _ = lifecycle::graph().to_dot();
        let _ = format!("{:?}", chain_in.states[0].is_realized());
        let _ = chain_in
            .states
            .iter()
            .filter(|s| s.peek().is_some())
            .count();
        assert_eq!(*other_in.get(), 5);
        lifecycle::watch("faults::reentrant-inner", |_, _| {});
        lifecycle::unwatch("faults::reentrant-inner");
        sink.push(format!("{} {}", event_name(event), info.name()));
    });
    within(
        Duration::from_secs(20),
        "every event with a re-entrant watcher",
        {
            let chain = Arc::clone(&chain);
            move || {
                for position in 0..3 {
                    every_event(&chain, position, "re-entrant watcher");
                }
            }
        },
    );
    assert!(lifecycle::unwatch("faults::reentrant"));
    let seen = seen.take();
    for event in EVENTS {
        assert!(
            seen.iter().any(|s| s.starts_with(event)),
            "{event}: {seen:?}"
        );
    }
    other.stop().unwrap();
}
