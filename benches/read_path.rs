//! The read path: a realized state's `get()` against its peers, with one and two threads.
//!
//! Run with `cargo bench --bench read_path`; `BENCHMARKS.md` explains the figures.
//! Every measurement reads the value (so nothing is optimized away) and drops the guard.

mod common;

use arc_swap::ArcSwap;
use criterion::{BenchmarkId, Criterion};
use lifecycle::defstate;
use std::hint::black_box;
use std::sync::{Arc, Barrier, LazyLock, OnceLock, RwLock};
use std::time::{Duration, Instant};

/// The state under test: a static, as users declare them.
#[defstate]
static STATE: u64 = 42;

/// The same with an async start, read with `.get().await`.
#[defstate]
static ASYNC_STATE: u64 = async { 42 };
static LAZY_LOCK: LazyLock<u64> = LazyLock::new(|| 42);
static ONCE_LOCK: OnceLock<u64> = OnceLock::new();
static ONCE_CELL: once_cell::sync::Lazy<u64> = once_cell::sync::Lazy::new(|| 42);
static ARC_SWAP: LazyLock<ArcSwap<u64>> = LazyLock::new(|| ArcSwap::from_pointee(42));
static ARC: LazyLock<Arc<u64>> = LazyLock::new(|| Arc::new(42));
static RW_LOCK: RwLock<u64> = RwLock::new(42);

type Read = fn() -> u64;

fn peers() -> Vec<(&'static str, Read)> {
    vec![
        ("lifecycle_get", || *black_box(&STATE).get()),
        ("lifecycle_get_owned", || *black_box(&STATE).get_owned()),
        ("LazyLock", || **black_box(&LAZY_LOCK)),
        ("OnceLock_get", || *black_box(&ONCE_LOCK).get().unwrap()),
        ("once_cell_Lazy", || **black_box(&ONCE_CELL)),
        ("arc_swap_load", || **black_box(&*ARC_SWAP).load()),
        ("Arc_clone", || *Arc::clone(black_box(&*ARC))),
        ("RwLock_read", || *black_box(&RW_LOCK).read().unwrap()),
    ]
}

fn warm_up() {
    STATE.get();
    ONCE_LOCK.get_or_init(|| 42);
    LazyLock::force(&LAZY_LOCK);
    once_cell::sync::Lazy::force(&ONCE_CELL);
    LazyLock::force(&ARC_SWAP);
    LazyLock::force(&ARC);
}

/// Each of `threads` threads does `iters` reads at the same time; the result is the slowest
/// thread's time, so it is the per-read cost of one thread under contention.
fn run_parallel(threads: usize, iters: u64, read: Read) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    read(); // registers this thread's reader counts outside the timing
                    barrier.wait();
                    let began = Instant::now();
                    for _ in 0..iters {
                        black_box(read());
                    }
                    began.elapsed()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .max()
            .unwrap()
    })
}

fn read_path(c: &mut Criterion) {
    warm_up();
    let mut one = c.benchmark_group("read/1-thread");
    for (name, read) in peers() {
        one.bench_function(name, |b| b.iter(read));
    }
    one.finish();

    let mut two = c.benchmark_group("read/threads");
    for (name, read) in peers() {
        for threads in [1, 2] {
            two.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| run_parallel(threads, iters, read));
            });
        }
    }
    two.finish();

    // `.get().await` on a realized async state, polled on a current-thread runtime; the
    // `async` block alone is the baseline for the runtime's own cost.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async { *ASYNC_STATE.get().await });
    let mut asynchronous = c.benchmark_group("read/async");
    asynchronous.bench_function("lifecycle_async_get", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let began = Instant::now();
                for _ in 0..iters {
                    black_box(*black_box(&ASYNC_STATE).get().await);
                }
                began.elapsed()
            })
        });
    });
    asynchronous.bench_function("async_block_baseline", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let began = Instant::now();
                for _ in 0..iters {
                    black_box(async { *black_box(&42_u64) }.await);
                }
                began.elapsed()
            })
        });
    });
    asynchronous.finish();
}

bench_main!(read_path, Duration::from_millis(500), 30);
