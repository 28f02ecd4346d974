//! Real threads: readers (guards and owned handles) race stops, restarts and force-closes for
//! a few seconds. Every start is matched by exactly one stop, and no value is ever read after
//! its stop ran.

use lifecycle::State;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Resource {
    open: AtomicBool,
    serial: usize,
}

#[derive(Default)]
struct Tally {
    starts: AtomicUsize,
    stops: AtomicUsize,
    reads: AtomicUsize,
}

#[test]
fn readers_racing_stops_and_restarts_never_see_a_stopped_value() {
    let tally = Arc::new(Tally::default());
    let (on_start, on_stop) = (Arc::clone(&tally), Arc::clone(&tally));
    let state = Arc::new(
        State::new("stress::resource", move || {
            let serial = on_start.starts.fetch_add(1, SeqCst);
            Ok(Resource {
                open: AtomicBool::new(true),
                serial,
            })
        })
        .with_stop(move |resource: Resource| {
            assert!(resource.open.swap(false, SeqCst), "stopped twice");
            on_stop.stops.fetch_add(1, SeqCst);
        }),
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2)
        * 2;
    std::thread::scope(|s| {
        for reader in 0..threads {
            let (state, tally) = (&state, &tally);
            s.spawn(move || {
                let mut last_serial = 0;
                while Instant::now() < deadline {
                    if reader % 2 == 0 {
                        let value = state.get();
                        assert!(value.open.load(SeqCst), "read a stopped value");
                        assert!(value.serial >= last_serial, "went back to an older value");
                        last_serial = value.serial;
                    } else {
                        let value = state.get_owned();
                        std::thread::yield_now();
                        assert!(value.open.load(SeqCst), "owned handle outlived its value");
                    }
                    tally.reads.fetch_add(1, SeqCst);
                }
            });
        }
        s.spawn(|| {
            let mut round = 0_u32;
            while Instant::now() < deadline {
                match round % 3 {
                    0 => state.stop().unwrap(),
                    1 => drop(state.restart().unwrap()),
                    _ => state.force_close().unwrap(),
                }
                round += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
        });
    });
    state.stop().unwrap();
    let (starts, stops) = (tally.starts.load(SeqCst), tally.stops.load(SeqCst));
    eprintln!(
        "stress: {threads} readers, {} reads, {starts} starts, {stops} stops",
        tally.reads.load(SeqCst)
    );
    assert_eq!(starts, stops, "every start is matched by exactly one stop");
    assert!(starts > 10, "the stopper made progress: {starts} starts");
    assert!(tally.reads.load(SeqCst) > 1000);
}

#[test]
fn many_states_many_threads_first_get_races() {
    let states: Vec<Arc<State<usize>>> = (0..64)
        .map(|i| {
            let starts = Arc::new(AtomicUsize::new(0));
            Arc::new(State::new(format!("stress::many-{i}"), move || {
                assert_eq!(starts.fetch_add(1, SeqCst), 0, "started twice");
                Ok(i)
            }))
        })
        .collect();
    std::thread::scope(|s| {
        for t in 0..8 {
            let states = &states;
            s.spawn(move || {
                for offset in 0..states.len() {
                    let i = (offset + t * 7) % states.len();
                    assert_eq!(*states[i].get(), i);
                }
            });
        }
    });
}
