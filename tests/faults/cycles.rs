//! Starts and stops that need each other across threads: the cycle is found and reported to
//! one side, never a deadlock, and both states work afterwards.

use crate::common::Log;
use crate::{turn, within};
use lifecycle::State;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn a_stop_that_needs_a_state_whose_start_needs_the_stopping_state_is_a_cycle_not_a_deadlock() {
    let _turn = turn();
    // B's stop reads A; A's start reads B. Thread X starts A while thread Y stops B: Y's stop
    // waits for A's start, which waits for B's stop.
    let (a_starting, a_is_starting) = mpsc::channel::<()>();
    let (in_b_stop, y_in_b_stop) = mpsc::channel::<()>();
    let (a_is_starting, y_in_b_stop) = (Mutex::new(a_is_starting), Mutex::new(y_in_b_stop));
    let a_slot: Arc<Mutex<Option<Arc<State<u32>>>>> = Arc::default();
    let a_for_b = Arc::clone(&a_slot);
    let seen_in_stop = Log::default();
    let seen = seen_in_stop.clone();
    let b = Arc::new(
        State::new("faults::cycle-b", || Ok(1_u32)).with_stop(move |_| {
            in_b_stop.send(()).unwrap();
            let a = a_for_b.lock().unwrap().clone().unwrap();
            let read = match a.try_get() {
                Ok(value) => format!("A = {}", *value),
                Err(error) => error.to_string(),
            };
            seen.push(read);
        }),
    );
    let b_for_a = Arc::clone(&b);
    let first = AtomicBool::new(true);
    let a = Arc::new(State::new("faults::cycle-a", move || {
        if first.swap(false, SeqCst) {
            a_starting.send(()).unwrap();
            y_in_b_stop.lock().unwrap().recv().unwrap(); // Y is inside B's stop now
        }
        Ok(*b_for_a.try_get()? + 1)
    }));
    *a_slot.lock().unwrap() = Some(Arc::clone(&a));
    b.get();

    let x = {
        let a = Arc::clone(&a);
        std::thread::spawn(move || a.try_get().map(|v| *v).map_err(|e| e.to_string()))
    };
    a_is_starting.lock().unwrap().recv().unwrap();
    let stop_b = {
        let b = Arc::clone(&b);
        within(Duration::from_secs(20), "B's stop", move || b.stop())
    };
    let x = within(Duration::from_secs(20), "A's start", move || {
        x.join().unwrap()
    });
    stop_b.unwrap();
    let seen = seen_in_stop.take();
    // One side closes the cycle and is told so; the other goes on.
    match &x {
        Err(error) => assert!(error.contains("start cycle"), "{error}"),
        Ok(_) => assert!(seen[0].contains("start cycle"), "{seen:?}"),
    }
    // Nothing is left stuck: both states work afterwards.
    a.stop().unwrap();
    b.stop().unwrap();
    assert_eq!(*a.get(), 2);
    a.stop().unwrap();
    b.stop().unwrap();
}

#[test]
fn a_start_that_stops_a_state_whose_start_needs_it_is_a_cycle_not_a_deadlock() {
    let _turn = turn();
    // A's start stops B; B's start reads A. Thread Y starts B, thread X starts A.
    let (b_waits_for_a, a_is_read) = mpsc::channel::<()>();
    let a_is_read = Mutex::new(a_is_read);
    let (a_starting, a_is_starting) = mpsc::channel::<()>();
    let a_is_starting = Mutex::new(a_is_starting);
    let b_slot: Arc<Mutex<Option<Arc<State<u32>>>>> = Arc::default();
    let b_for_a = Arc::clone(&b_slot);
    let stop_results = Log::default();
    let results = stop_results.clone();
    let first_a = AtomicBool::new(true);
    let a = Arc::new(State::new("faults::stop-cycle-a", move || {
        if first_a.swap(false, SeqCst) {
            a_starting.send(()).unwrap();
            a_is_read.lock().unwrap().recv().unwrap();
            std::thread::sleep(Duration::from_millis(100)); // B's start is waiting for A
        }
        let b = b_for_a.lock().unwrap().clone().unwrap();
        results.push(match b.stop() {
            Ok(()) => "stopped".to_owned(),
            Err(error) => error.to_string(),
        });
        Ok(1_u32)
    }));
    let a_for_b = Arc::clone(&a);
    let first_b = AtomicBool::new(true);
    let b = Arc::new(State::new("faults::stop-cycle-b", move || {
        if first_b.swap(false, SeqCst) {
            a_is_starting.lock().unwrap().recv().unwrap();
            b_waits_for_a.send(()).unwrap();
        }
        Ok(*a_for_b.try_get()? + 1)
    }));
    *b_slot.lock().unwrap() = Some(Arc::clone(&b));

    let y = {
        let b = Arc::clone(&b);
        std::thread::spawn(move || b.try_get().map(|v| *v).map_err(|e| e.to_string()))
    };
    let x = {
        let a = Arc::clone(&a);
        within(Duration::from_secs(20), "A's start", move || {
            a.try_get().map(|v| *v).map_err(|e| e.to_string())
        })
    };
    let y = within(Duration::from_secs(20), "B's start", move || {
        y.join().unwrap()
    });
    assert_eq!(x, Ok(1), "A's start goes on whatever its stop of B said");
    let results = stop_results.take();
    // One side closes the cycle and is told so.
    match &y {
        Err(error) => assert!(error.contains("start cycle"), "{error}"),
        Ok(_) => assert!(results[0].contains("start cycle"), "{results:?}"),
    }
    a.stop().unwrap();
    b.stop().unwrap();
    assert_eq!(*b.get(), 2);
    a.stop().unwrap();
    b.stop().unwrap();
}
