//! Real threads: owned handles (`get_owned`, async guards and their clones) made on one
//! thread and dropped on another, racing stops and restarts. Each handle counts its entry on
//! the thread that makes it and its exit on the thread that drops it; no value is ever read
//! after its stop ran, and every stop waits for every handle, wherever it is dropped.

mod common;

use common::stress_seconds;
use lifecycle::{AsyncState, State};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

struct Resource {
    open: AtomicBool,
}

fn open() -> Resource {
    Resource {
        open: AtomicBool::new(true),
    }
}

/// Progress a run must make: plenty natively, some under valgrind or Miri.
fn at_least(native: usize) -> usize {
    if std::env::var_os("STRESS_SECS").is_some() {
        1
    } else {
        native
    }
}

fn close(resource: &Resource, stops: &AtomicUsize) {
    assert!(resource.open.swap(false, SeqCst), "stopped twice");
    stops.fetch_add(1, SeqCst);
}

#[test]
fn owned_handles_dropped_on_other_threads_never_outlive_their_value() {
    let stops = Arc::new(AtomicUsize::new(0));
    let on_stop = Arc::clone(&stops);
    let state = Arc::new(
        State::new("stress_owned::sync", || Ok(open()))
            .with_stop(move |resource: Resource| close(&resource, &on_stop)),
    );
    let deadline = Instant::now() + stress_seconds(2.0);
    let checked = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            let (tx, rx) = mpsc::sync_channel::<lifecycle::Owned<Resource>>(4);
            let state = &state;
            // The maker enters on its own counts and hands the handle over (a short queue:
            // a stop waits for every queued handle, and under Miri draining is slow)...
            s.spawn(move || {
                while Instant::now() < deadline {
                    if tx.send(state.get_owned()).is_err() {
                        break;
                    }
                }
            });
            // ...the dropper checks it and leaves on its own counts.
            let checked = &checked;
            s.spawn(move || {
                for handle in rx {
                    std::thread::yield_now();
                    assert!(handle.open.load(SeqCst), "owned handle outlived its value");
                    checked.fetch_add(1, SeqCst);
                }
            });
        }
        s.spawn(|| {
            let mut round = 0_u32;
            while Instant::now() < deadline {
                if round % 2 == 0 {
                    state.stop().unwrap();
                } else {
                    drop(state.restart().unwrap());
                }
                round += 1;
                std::thread::sleep(Duration::from_micros(200));
            }
        });
    });
    state.stop().unwrap();
    eprintln!(
        "stress_owned: {} handles moved, {} stops",
        checked.load(SeqCst),
        stops.load(SeqCst)
    );
    assert!(
        stops.load(SeqCst) >= at_least(10),
        "the stopper made progress"
    );
    assert!(checked.load(SeqCst) >= at_least(1000));
}

#[test]
fn async_guards_and_clones_moved_between_workers_never_outlive_their_value() {
    let stops = Arc::new(AtomicUsize::new(0));
    let on_stop = Arc::clone(&stops);
    let state = Arc::new(
        AsyncState::new("stress_owned::async", || async {
            Ok::<_, std::io::Error>(open())
        })
        .with_stop(move |resource: Resource| {
            close(&resource, &on_stop);
            async {}
        }),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let deadline = Instant::now() + stress_seconds(2.0);
    let checked = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (state, checked) = (Arc::clone(&state), Arc::clone(&checked));
            tasks.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    let guard = state.get().await;
                    let clone = guard.clone();
                    // The clone moves to a plain thread and is dropped there; the guard
                    // crosses an await (and maybe a worker) before it drops.
                    let checker = std::thread::spawn(move || {
                        assert!(clone.open.load(SeqCst), "async clone outlived its value");
                    });
                    tokio::task::yield_now().await;
                    assert!(guard.open.load(SeqCst), "async guard outlived its value");
                    drop(guard);
                    tokio::task::spawn_blocking(move || checker.join().unwrap())
                        .await
                        .unwrap();
                    checked.fetch_add(1, SeqCst);
                }
            }));
        }
        let stopper = Arc::clone(&state);
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                stopper.stop().await.unwrap();
                tokio::time::sleep(Duration::from_micros(300)).await;
                drop(stopper.get().await);
            }
        }));
        for task in tasks {
            task.await.unwrap();
        }
    });
    runtime.block_on(state.stop()).unwrap();
    eprintln!(
        "stress_owned async: {} guards checked, {} stops",
        checked.load(SeqCst),
        stops.load(SeqCst)
    );
    assert!(
        stops.load(SeqCst) >= at_least(10),
        "the stopper made progress"
    );
    assert!(checked.load(SeqCst) >= at_least(100));
}
