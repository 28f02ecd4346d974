//! Parallel start: 12 declared states whose starts sleep 50 ms, in 4 chains of depth 3
//! (`C3` reads `C2`, which reads `C1`). `lifecycle::start_all()` should take about the
//! critical path (3 x 50 ms = 150 ms; target: within 1.3x of it) where starting them one after
//! another takes the sum (12 x 50 ms = 600 ms).
//!
//! A bench binary (`harness = false`): the figures are wall times of whole runs, not
//! nanoseconds. Run with `cargo bench --bench start_all`; `BENCHMARKS.md` explains them.

use lifecycle::prelude::*;
use std::time::{Duration, Instant};

const NAP: Duration = Duration::from_millis(50);
const RUNS: u32 = 10;

fn slow<T>(value: T) -> T {
    std::thread::sleep(NAP);
    value
}

macro_rules! chain {
    ($one:ident, $two:ident, $three:ident) => {
        #[defstate]
        static $one: u32 = slow(1);
        #[defstate]
        static $two: u32 = {
            let one = *$one.get();
            slow(one + 1)
        };
        #[defstate]
        static $three: u32 = {
            let two = *$two.get();
            slow(two + 1)
        };
    };
}

chain!(A1, A2, A3);
chain!(B1, B2, B3);
chain!(C1, C2, C3);
chain!(D1, D2, D3);

/// The best and the median of `RUNS` timed runs of `run`, stopping everything between runs.
fn measure(mut run: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let began = Instant::now();
            run();
            let took = began.elapsed();
            lifecycle::stop().expect("stop");
            took
        })
        .collect();
    times.sort();
    (times[0], times[times.len() / 2])
}

fn ms(took: Duration) -> f64 {
    took.as_secs_f64() * 1000.0
}

fn main() {
    // `cargo test --benches` runs bench binaries with no `--bench`: one quick run as a check.
    let quick = !std::env::args().any(|arg| arg == "--bench");
    assert_eq!(lifecycle::declared().len(), 12);
    if quick {
        let report = lifecycle::start_all();
        assert!(report.is_ok() && report.started.len() == 12, "{report}");
        assert_eq!([*A3.get(), *B3.get(), *C3.get(), *D3.get()], [3; 4]);
        lifecycle::stop().expect("stop");
        println!("start_all bench: quick check ok (run with `cargo bench --bench start_all`)");
        return;
    }
    let (parallel, parallel_median) = measure(|| {
        let report = lifecycle::start_all();
        assert!(report.is_ok() && report.started.len() == 12, "{report}");
    });
    let (sequential, sequential_median) = measure(|| {
        for state in lifecycle::declared() {
            state.start().expect("start");
        }
    });
    let critical = NAP * 3;
    println!("start_all, 12 states x 50 ms in 4 chains of depth 3 ({RUNS} runs, best / median):");
    let start_all = figures("start_all", parallel, parallel_median, critical);
    println!("{start_all} ({:.0} ms)", ms(critical));
    println!(
        "{}",
        figures("sequential", sequential, sequential_median, critical)
    );
    println!(
        "  speed-up    {:.2}x (median sequential / median start_all)",
        sequential_median.as_secs_f64() / parallel_median.as_secs_f64()
    );
    lifecycle::start_all();
    println!("\n{}", lifecycle::startup_report());
}

/// One line of the figures: the best and the median run, and each against the critical path.
fn figures(label: &str, best: Duration, median: Duration, critical: Duration) -> String {
    format!(
        "  {label:<11} {:7.1} ms / {:7.1} ms  = {:.2}x / {:.2}x the critical path",
        ms(best),
        ms(median),
        best.as_secs_f64() / critical.as_secs_f64(),
        median.as_secs_f64() / critical.as_secs_f64(),
    )
}
