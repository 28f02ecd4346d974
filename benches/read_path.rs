//! The read path: a realized state's `get()` against its peers, with one and two threads;
//! async `.get().await` on current-thread and multi-thread tokio; and an axum handler that
//! reads two states per request against the same handler taking them from `State<Arc<_>>`.
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

/// Two states a request handler reads (a "database handle" and a "config").
#[defstate]
static HANDLER_DB: u64 = async { 7 };
#[defstate]
static HANDLER_CONFIG: u64 = async { 35 };
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

    async_scaling(c);
    axum_handler(c);
}

/// `iters` awaited reads in each of `tasks` tasks at once on `runtime`; the slowest task's
/// time, as in [`run_parallel`].
fn run_async(runtime: &tokio::runtime::Runtime, tasks: usize, iters: u64) -> Duration {
    runtime.block_on(async {
        let barrier = Arc::new(tokio::sync::Barrier::new(tasks));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    black_box(*ASYNC_STATE.get().await);
                    barrier.wait().await;
                    let began = Instant::now();
                    for _ in 0..iters {
                        black_box(*black_box(&ASYNC_STATE).get().await);
                    }
                    began.elapsed()
                })
            })
            .collect();
        let mut slowest = Duration::ZERO;
        for handle in handles {
            slowest = slowest.max(handle.await.unwrap());
        }
        slowest
    })
}

/// `.get().await` per read on tokio's multi-thread runtime (2 workers), with 1 task and with
/// 2 tasks reading at once (one per worker, when the scheduler spreads them).
fn async_scaling(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("read/async-multi-thread");
    for tasks in [1, 2] {
        group.bench_with_input(
            BenchmarkId::new("lifecycle_async_get", tasks),
            &tasks,
            |b, &tasks| b.iter_custom(|iters| run_async(&runtime, tasks, iters)),
        );
    }
    group.finish();
}

/// What a handler gets from axum's `State`, the usual way to share handles.
struct AppState {
    db: u64,
    config: u64,
}

async fn with_lifecycle() -> String {
    let (db, config) = (HANDLER_DB.get().await, HANDLER_CONFIG.get().await);
    // Held across an await, as a handler holding a database handle does.
    tokio::task::yield_now().await;
    (*db + *config).to_string()
}

async fn with_app_state(axum::extract::State(app): axum::extract::State<Arc<AppState>>) -> String {
    let (db, config) = (&app.db, &app.config);
    tokio::task::yield_now().await;
    (*db + *config).to_string()
}

/// One request through the router as a `tower::Service` (no network), body read to the end.
async fn call(router: &axum::Router) -> usize {
    use tower::ServiceExt;
    let request = axum::http::Request::get("/")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let body = axum::body::to_bytes(response.into_body(), 64)
        .await
        .unwrap();
    body.len()
}

/// The axum handler bench: `lifecycle` reads two states per request; the peer takes the same
/// two values from `State<Arc<AppState>>`. Current-thread runtime, so the figures are the
/// request path's own cost.
fn axum_handler(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let lifecycle_router = axum::Router::new().route("/", axum::routing::get(with_lifecycle));
    let state_router = axum::Router::new()
        .route("/", axum::routing::get(with_app_state))
        .with_state(Arc::new(AppState { db: 7, config: 35 }));
    runtime.block_on(async {
        assert_eq!(call(&lifecycle_router).await, 2);
        assert_eq!(call(&state_router).await, 2);
    });
    let mut group = c.benchmark_group("axum-handler");
    for (name, router) in [
        ("lifecycle_two_states", &lifecycle_router),
        ("axum_State_Arc", &state_router),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let began = Instant::now();
                    for _ in 0..iters {
                        black_box(call(router).await);
                    }
                    began.elapsed()
                })
            });
        });
    }
    group.finish();
}

bench_main!(read_path, Duration::from_millis(500), 30);
