//! `lifecycle::start_all_where` / `start_all_async_where`, the recorded start timings, the
//! start-up report and the timed graph, through the public API.
//!
//! `declared()` lists every `#[defstate]` of this test binary, and its tests run in parallel:
//! each test starts only the states under its own module (`start_all_where` with a prefix)
//! and reads only those from the shared graph and report.

use lifecycle::prelude::*;
use lifecycle::{Graph, StartupReport, StateInfo};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

fn nap(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

fn prefixed(prefix: &'static str) -> impl Fn(&StateInfo) -> bool {
    move |state| state.name().starts_with(prefix)
}

/// The recorded start interval of `name`, from `status()`.
fn interval(name: &str) -> (SystemTime, SystemTime) {
    let info = lifecycle::status()
        .into_iter()
        .find(|s| s.name() == name)
        .unwrap_or_else(|| panic!("{name} is active"));
    let began = info.started_at().expect("a recorded start");
    (
        began,
        began + info.start_duration().expect("a recorded duration"),
    )
}

/// The part of the graph whose nodes start with `prefix` (other tests share the graph).
fn subgraph(prefix: &str) -> Graph {
    let graph = lifecycle::graph();
    let keep: Vec<usize> = (0..graph.nodes.len())
        .filter(|&at| graph.nodes[at].name().starts_with(prefix))
        .collect();
    let index = |at: usize| keep.iter().position(|&k| k == at);
    Graph {
        nodes: keep.iter().map(|&at| graph.nodes[at].clone()).collect(),
        edges: graph
            .edges
            .iter()
            .filter_map(|&(from, to)| Some((index(from)?, index(to)?)))
            .collect(),
    }
}

mod overlap {
    use super::*;

    pub static STARTS: AtomicUsize = AtomicUsize::new(0);

    fn slow<T>(value: T) -> T {
        STARTS.fetch_add(1, SeqCst);
        // Long enough that the three roots overlap even on a loaded machine.
        nap(150);
        value
    }

    #[defstate]
    pub static A1: u32 = slow(1);
    #[defstate]
    pub static A2: u32 = slow(*A1.get() + 1);
    #[defstate]
    pub static B1: u32 = slow(10);
    #[defstate]
    pub static B2: u32 = slow(*B1.get() + 1);
    #[defstate]
    pub static C1: u32 = slow(100);
    #[defstate]
    pub static C2: u32 = slow(*C1.get() + 1);

    #[test]
    fn independent_chains_start_at_once_and_each_state_once() {
        let report = lifecycle::start_all_where(prefixed("start_all::overlap::"));
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.started.len(), 6, "{report}");
        assert_eq!(STARTS.load(SeqCst), 6, "each state started exactly once");
        assert_eq!((*A2.get(), *B2.get(), *C2.get()), (2, 11, 101));

        // The three roots of the chains ran at the same time: each began before the others
        // ended (recorded by the library, not measured here).
        let roots = ["A1", "B1", "C1"].map(|s| interval(&format!("start_all::overlap::{s}")));
        for (i, a) in roots.iter().enumerate() {
            for b in &roots[i + 1..] {
                assert!(a.0 < b.1 && b.0 < a.1, "{a:?} and {b:?} overlap");
            }
        }
        // A dependent's start ends after its dependency's (it waited for what it read).
        let (a1, a2) = (
            interval("start_all::overlap::A1"),
            interval("start_all::overlap::A2"),
        );
        assert!(a1.1 <= a2.1, "{a1:?} ends before {a2:?}");

        // A second call starts nothing and reports them as already realized.
        let again = lifecycle::start_all_where(prefixed("start_all::overlap::"));
        assert!(again.started.is_empty() && again.is_ok());
        assert_eq!(again.already_realized.len(), 6);
        assert_eq!(STARTS.load(SeqCst), 6);
        lifecycle::stop_where(prefixed("start_all::overlap::")).unwrap();
    }
}

mod failures {
    use super::*;

    #[defstate]
    pub static BROKEN: u32 = Err::<u32, _>(std::io::Error::other("disk on fire"))?;
    #[defstate]
    pub static NEEDS_BROKEN: u32 = *BROKEN.get() + 1;
    #[defstate]
    pub static FINE: u32 = 7;
    #[defstate]
    pub static ALSO_FINE: u32 = *FINE.get() + 1;

    #[test]
    fn every_failure_is_reported_and_the_others_start_and_stay() {
        let report = lifecycle::start_all_where(prefixed("start_all::failures::"));
        assert!(!report.is_ok());
        let failed: Vec<&str> = report.failed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            failed,
            [
                "start_all::failures::BROKEN",
                "start_all::failures::NEEDS_BROKEN"
            ]
        );
        for (_, error) in &report.failed {
            let chain = format!("{error} / {:?}", std::error::Error::source(error));
            assert!(chain.contains("BROKEN"), "{chain}");
        }
        let mut started: Vec<&str> = report.started.iter().map(|(n, _)| n.as_str()).collect();
        started.sort_unstable();
        assert_eq!(
            started,
            [
                "start_all::failures::ALSO_FINE",
                "start_all::failures::FINE"
            ]
        );
        assert!(
            FINE.is_realized() && ALSO_FINE.is_realized(),
            "nothing was closed"
        );
        assert!(!BROKEN.is_realized() && !NEEDS_BROKEN.is_realized());
        let text = report.to_string();
        assert!(
            text.contains("failed  start_all::failures::BROKEN"),
            "{text}"
        );
        lifecycle::stop_where(prefixed("start_all::failures::")).unwrap();
    }
}

mod cycle {
    use super::*;

    #[defstate]
    pub static PING: u32 = {
        nap(20);
        *PONG.get() + 1
    };
    #[defstate]
    pub static PONG: u32 = {
        nap(20);
        *PING.get() + 1
    };

    #[test]
    fn a_cycle_among_declared_states_is_an_error_not_a_hang() {
        let (done, report) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(lifecycle::start_all_where(prefixed("start_all::cycle::")));
        });
        let report = report
            .recv_timeout(Duration::from_secs(20))
            .expect("start_all returns");
        assert_eq!(report.failed.len(), 2, "{report}");
        let all = report
            .failed
            .iter()
            .map(|(_, error)| error_chain(error))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("start cycle"), "{all}");
        assert!(!PING.is_realized() && !PONG.is_realized());
    }

    fn error_chain(error: &dyn std::error::Error) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }
}

mod report {
    use super::*;

    #[defstate]
    pub static BASE: u32 = {
        nap(200);
        1
    };
    #[defstate]
    pub static MIDDLE: u32 = {
        let base = *BASE.get();
        nap(60);
        base + 1
    };
    #[defstate]
    pub static QUICK: u32 = {
        nap(5);
        3
    };

    #[test]
    fn blame_is_slowest_own_time_first_with_the_critical_chain() {
        let started = lifecycle::start_all_where(prefixed("start_all::report::"));
        assert!(started.is_ok(), "{started}");
        let report = StartupReport::of(&subgraph("start_all::report::"));
        let order: Vec<&str> = report.blame.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(
            order,
            [
                "start_all::report::BASE",
                "start_all::report::MIDDLE",
                "start_all::report::QUICK"
            ],
            "{report}"
        );
        // MIDDLE's own time is its total less the part of BASE's start it waited through.
        let (middle, base) = (&report.blame[1], &report.blame[0]);
        assert!(middle.total >= Duration::from_millis(60), "{report}");
        let base_end = base.started_at + base.total;
        let waited = base_end
            .duration_since(middle.started_at.max(base.started_at))
            .unwrap_or_default()
            .min(middle.total);
        assert_eq!(middle.total - middle.own, waited, "{report}");
        let chain: Vec<&str> = report
            .critical_chain
            .iter()
            .map(|b| b.name.as_str())
            .collect();
        assert_eq!(
            chain,
            ["start_all::report::MIDDLE", "start_all::report::BASE"],
            "{report}"
        );
        let text = report.to_string();
        assert!(text.contains("critical chain"), "{text}");
        assert!(
            text.contains("start_all::report::MIDDLE @")
                && text.contains("└─ start_all::report::BASE @"),
            "{text}"
        );
        // The library-wide report lists them too.
        assert!(lifecycle::startup_report()
            .blame
            .iter()
            .any(|b| b.name == "start_all::report::QUICK"));

        let dot = subgraph("start_all::report::").to_dot();
        assert!(
            dot.contains(r#""start_all::report::QUICK" [label="start_all::report::QUICK\n"#),
            "{dot}"
        );
        assert!(
            dot.contains(" ms\", color=red"),
            "the critical path is marked: {dot}"
        );
        assert!(
            dot.contains("subgraph critical_path {\n        edge [color=red, penwidth=2];\n        \"start_all::report::MIDDLE\" -> \"start_all::report::BASE\";"),
            "{dot}"
        );
        lifecycle::stop_where(prefixed("start_all::report::")).unwrap();
    }
}

mod asynchronous {
    use super::*;

    async fn slow(value: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        value
    }

    #[defstate]
    pub static SYNC_BASE: u32 = {
        nap(150);
        5
    };
    #[defstate]
    pub static LEFT: u32 = async { slow(1).await };
    #[defstate]
    pub static RIGHT: u32 = async { slow(2).await };
    #[defstate]
    pub static TOP: u32 = async {
        let left = *LEFT.get().await;
        let right = *RIGHT.get().await;
        left + right + *SYNC_BASE.get()
    };

    #[tokio::test(flavor = "current_thread")]
    async fn async_states_start_concurrently_on_the_callers_executor() {
        let report = lifecycle::start_all_async_where(prefixed("start_all::asynchronous::")).await;
        assert!(report.is_ok(), "{report}");
        assert_eq!(report.started.len(), 4, "{report}");
        assert_eq!(*TOP.get().await, 8);
        let (left, right, base) = (
            interval("start_all::asynchronous::LEFT"),
            interval("start_all::asynchronous::RIGHT"),
            interval("start_all::asynchronous::SYNC_BASE"),
        );
        // Two async starts on one executor thread, and a sync one on a thread, all at once.
        assert!(left.0 < right.1 && right.0 < left.1, "{left:?} {right:?}");
        assert!(left.0 < base.1 && base.0 < left.1, "{left:?} {base:?}");
        lifecycle::stop_async_where(prefixed("start_all::asynchronous::"))
            .await
            .unwrap();
    }
}
