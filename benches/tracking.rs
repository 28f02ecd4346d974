//! Tracking cost: realizing a state, stopping one, and `stop()` of everything, with 1k, 10k
//! and 100k other states live. The cost per state must not grow with the number of states
//! (target: at 100k within 2x of 1k).
//!
//! Run with `cargo bench --bench tracking`; `BENCHMARKS.md` explains the figures.

mod common;

use criterion::{BatchSize, BenchmarkId, Criterion};
use lifecycle::State;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn live_states(n: usize) -> Vec<State<usize>> {
    let states: Vec<State<usize>> = (0..n)
        .map(|i| State::new(format!("bench::live-{i}"), move || Ok(i)))
        .collect();
    for state in &states {
        state.get();
    }
    states
}

fn tracking(c: &mut Criterion) {
    let mut group = c.benchmark_group("tracking");
    for n in [1_000, 10_000, 100_000] {
        let live = live_states(n);
        assert_eq!(lifecycle::status().len(), n);

        group.bench_function(BenchmarkId::new("realize_one", n), |b| {
            b.iter_batched(
                || State::new("bench::extra", || Ok(1_usize)),
                |state| {
                    black_box(*state.get());
                    state // dropped (stopped) outside the measurement
                },
                BatchSize::SmallInput,
            );
        });

        group.bench_function(BenchmarkId::new("stop_one", n), |b| {
            b.iter_batched(
                || {
                    let state = State::new("bench::extra", || Ok(1_usize));
                    state.get();
                    state
                },
                |state| {
                    state.stop().unwrap();
                    state
                },
                BatchSize::SmallInput,
            );
        });

        // `stop()` of everything, divided by the number of states: the cost per state.
        group.bench_function(BenchmarkId::new("stop_all_per_state", n), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    for state in &live {
                        state.get();
                    }
                    let began = Instant::now();
                    let report = lifecycle::stop().unwrap();
                    total += began.elapsed();
                    assert_eq!(report.stopped.len(), n);
                }
                total / u32::try_from(n).unwrap()
            });
        });
        drop(live);
    }
    group.finish();
}

bench_main!(tracking, Duration::from_millis(300), 10);
