//! Stop functions that never return (or return late): `stop()` gives up on them, reports
//! them and stops the rest; their readers are told; a late return finishes cleanly and never
//! undoes a newer realization.

use crate::chain::{Chain, OpenOnDrop, STUCK};
use crate::common::StopTimeout;
use crate::{eventually, names, turn};
use lifecycle::{Error, State};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The stop timeout of the tests with a stop that never returns: `stop()` gives up on it
/// after twice that. Generous enough that on a loaded machine the other states' stops (a few
/// microseconds of work) are never given up on too.
const STUCK_TIMEOUT: Duration = Duration::from_millis(300);

/// A state whose first stop blocks until `release` is sent, and which counts its starts and
/// stops; `returned` is set when a stop function returns.
struct Stuck {
    state: Arc<State<usize>>,
    release: mpsc::Sender<()>,
    starts: Arc<AtomicUsize>,
    stops: Arc<AtomicUsize>,
    returned: Arc<AtomicBool>,
}

fn stuck(name: &'static str, start_gate: Option<mpsc::Receiver<()>>) -> Stuck {
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let start_gate = Mutex::new(start_gate);
    let (starts, stops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let returned = Arc::new(AtomicBool::new(false));
    let (on_start, on_stop, on_return) = (starts.clone(), stops.clone(), returned.clone());
    let state = State::new(name, move || {
        let n = on_start.fetch_add(1, SeqCst) + 1;
        if n == 2 {
            // The second start waits for the test, if it asked to.
            if let Some(gate) = &*start_gate.lock().unwrap() {
                gate.recv().unwrap();
            }
        }
        Ok(n)
    })
    .with_stop(move |_| {
        if on_stop.fetch_add(1, SeqCst) == 0 {
            released.lock().unwrap().recv().unwrap(); // the first stop never returns by itself
        }
        on_return.store(true, SeqCst);
    });
    Stuck {
        state: Arc::new(state),
        release,
        starts,
        stops,
        returned,
    }
}

/// A realized chain `name` whose middle state's stop will never return.
fn stuck_in_the_middle(name: &'static str) -> Chain {
    let chain = Chain::new(name);
    chain.last().get();
    chain.knobs[1].stop.store(STUCK, SeqCst);
    chain
}

/// Realizes `stuck` and lets `lifecycle::stop()` give up on it.
fn abandon(stuck: &Stuck) {
    stuck.state.get();
    let _timeout = StopTimeout::set(STUCK_TIMEOUT);
    let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
        panic!("not StopAll")
    };
    assert!(
        matches!(&report.failed[..], [(_, Error::StopTimedOut { .. })]),
        "{report}"
    );
}

#[test]
fn a_stuck_stop_returning_late_leaves_a_restarted_state_tracked() {
    let _turn = turn();
    let stuck = stuck("faults::late-after-restart", None);
    abandon(&stuck);
    stuck.state.force_close().unwrap();
    assert_eq!(*stuck.state.get(), 2, "started again after force_close");
    assert_eq!(names(lifecycle::status()), ["faults::late-after-restart"]);

    // The abandoned stop returns now: the new realization is none of its business.
    stuck.release.send(()).unwrap();
    eventually("the stuck stop returned", || stuck.returned.load(SeqCst));
    std::thread::sleep(Duration::from_millis(300)); // its worker finishes its bookkeeping
    assert!(stuck.state.is_realized());
    assert_eq!(
        names(lifecycle::status()),
        ["faults::late-after-restart"],
        "the restarted state is still tracked"
    );
    let report = lifecycle::stop().unwrap();
    assert_eq!(report.stopped, ["faults::late-after-restart"]);
    assert_eq!(stuck.starts.load(SeqCst), stuck.stops.load(SeqCst));
}

#[test]
fn a_stuck_stop_returning_during_a_new_start_does_not_let_a_second_start_in() {
    let _turn = turn();
    let (open_gate, gate) = mpsc::channel::<()>();
    let stuck = stuck("faults::late-during-start", Some(gate));
    abandon(&stuck);
    stuck.state.force_close().unwrap();
    std::thread::scope(|s| {
        // Dropped if the test fails inside the scope: the waiting start then fails too.
        let open_gate = open_gate;
        // The second start runs (and waits at the gate) while the stuck stop returns.
        let first = s.spawn(|| *stuck.state.get());
        eventually("the second start began", || stuck.starts.load(SeqCst) == 2);
        stuck.release.send(()).unwrap();
        eventually("the stuck stop returned", || stuck.returned.load(SeqCst));
        std::thread::sleep(Duration::from_millis(300));
        // A reader now must wait for the start in progress, not start a third time.
        let second = s.spawn(|| *stuck.state.get());
        std::thread::sleep(Duration::from_millis(300));
        open_gate.send(()).unwrap();
        assert_eq!(first.join().unwrap(), 2);
        assert_eq!(second.join().unwrap(), 2, "the reader saw the one start");
    });
    assert_eq!(stuck.starts.load(SeqCst), 2, "started exactly once more");
    lifecycle::stop().unwrap();
    assert_eq!(stuck.starts.load(SeqCst), stuck.stops.load(SeqCst));
}

#[test]
fn a_stop_that_never_returns_in_a_chain_blocks_nothing_else_and_reads_of_it_error() {
    let _turn = turn();
    let chain = stuck_in_the_middle("stuck-middle");
    let middle = &chain.states[1];
    let timeout = STUCK_TIMEOUT;
    let _timeout = StopTimeout::set(timeout);

    let (report, waited_reader) = std::thread::scope(|s| {
        // A reader that arrives while stop() waits for the stuck stop: it waits too, then is
        // told, instead of waiting forever.
        let reader = s.spawn(|| {
            eventually("the stuck stop began", || {
                chain.knobs[1].stops.load(SeqCst) == 1
            });
            let began = Instant::now();
            let result = middle.try_get().map(|v| v.open.load(SeqCst));
            (result, began.elapsed())
        });
        let began = Instant::now();
        let report = lifecycle::stop();
        let elapsed = began.elapsed();
        assert!(elapsed >= timeout * 2, "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
        (report, reader.join().unwrap())
    });
    let Error::StopAll(report) = report.unwrap_err() else {
        panic!("not StopAll")
    };
    assert_eq!(chain.ours(&report.stopped), chain.reversed(Some(1)));
    assert!(
        matches!(&report.failed[..], [(name, Error::StopTimedOut { .. })] if *name == chain.names[1]),
        "{report}"
    );
    let (read, waited) = waited_reader;
    assert!(
        matches!(read, Err(Error::StopFailedEarlier { .. })),
        "the reader waiting during stop() got {read:?}"
    );
    assert!(waited < Duration::from_secs(15), "{waited:?}");

    // From now on, reads of it and of its dependents error at once.
    let began = Instant::now();
    assert!(matches!(
        middle.try_get(),
        Err(Error::StopFailedEarlier { .. })
    ));
    assert!(chain.last().try_get().is_err());
    assert!(matches!(
        middle.stop(),
        Err(Error::StopFailedEarlier { .. })
    ));
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "{:?}",
        began.elapsed()
    );
    // What it does not depend on works.
    assert!(chain.first().get().open.load(SeqCst));

    // The stuck stop returns at last: the state ends up cleanly stopped, and usable.
    chain.knobs[1].gate.open();
    eventually("the late stop cleared the state", || {
        !names(lifecycle::status()).contains(&chain.names[1])
    });
    assert!(middle.get().open.load(SeqCst));
    chain.assert_usable("stuck middle");
}

#[test]
fn two_stops_that_never_return_are_both_reported_and_the_rest_stop() {
    let _turn = turn();
    let chain = Chain::new("stuck-two");
    chain.last().get();
    chain.knobs[0].stop.store(STUCK, SeqCst);
    chain.knobs[2].stop.store(STUCK, SeqCst);
    let _timeout = StopTimeout::set(STUCK_TIMEOUT);
    let began = Instant::now();
    let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
        panic!("not StopAll")
    };
    assert!(
        began.elapsed() < Duration::from_secs(15),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(chain.ours(&report.stopped), [chain.names[1].clone()]);
    let failed: Vec<&str> = report.failed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(failed, [&chain.names[2], &chain.names[0]]);
    assert!(report
        .failed
        .iter()
        .all(|(_, e)| matches!(e, Error::StopTimedOut { .. })));
    chain.knobs[0].gate.open();
    chain.knobs[2].gate.open();
    eventually("both late stops cleared their states", || {
        chain.ours(&names(lifecycle::status())).is_empty()
    });
    chain.assert_usable("two stuck");
}

#[test]
fn a_direct_stop_that_never_returns_is_given_up_by_stop_all_and_its_readers_are_told() {
    let _turn = turn();
    let chain = stuck_in_the_middle("stuck-direct");
    let middle = &chain.states[1];
    let _timeout = StopTimeout::set(STUCK_TIMEOUT);
    std::thread::scope(|s| {
        let _open_on_failure = OpenOnDrop(&chain.knobs[1].gate);
        // A plain `State::stop` runs on its caller's thread, unbounded: it sticks.
        let direct = s.spawn(|| middle.stop());
        eventually("the stuck stop began", || {
            chain.knobs[1].stops.load(SeqCst) == 1
        });
        // A reader waits for that stop...
        let (tell, told) = mpsc::channel();
        s.spawn(move || tell.send(middle.try_get().map(|v| v.open.load(SeqCst))));
        // ...until stop() gives up on it (it waits for the direct stop, bounded).
        let Error::StopAll(report) = lifecycle::stop().unwrap_err() else {
            panic!("not StopAll")
        };
        assert_eq!(chain.ours(&report.stopped), chain.reversed(Some(1)));
        assert!(matches!(
            &report.failed[..],
            [(_, Error::StopTimedOut { .. })]
        ));
        let read = told
            .recv_timeout(Duration::from_secs(20))
            .expect("the reader was not told within 20 s");
        assert!(
            matches!(read, Err(Error::StopFailedEarlier { .. })),
            "{read:?}"
        );
        // When the direct stop returns, it finishes the job and succeeds.
        chain.knobs[1].gate.open();
        direct.join().unwrap().unwrap();
    });
    assert!(!chain
        .ours(&names(lifecycle::status()))
        .contains(&chain.names[1]));
    chain.assert_usable("stuck direct");
}
