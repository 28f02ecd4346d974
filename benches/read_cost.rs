//! Instructions per read, for `valgrind --tool=callgrind` (repeatable on a loaded machine,
//! unlike wall time): `read_cost <kind> <n>` does `n` reads of one kind and exits.
//!
//! Per-read cost = (instructions with `n` = 1,000,000 − instructions with `n` = 0) / 1,000,000;
//! `BENCHMARKS.md` lists the figures. Kinds: `get`, `get_owned`, `async_get` (current-thread
//! tokio), `async_block` (the runtime's own per-await cost), `lazy_lock`.

use lifecycle::defstate;
use std::hint::black_box;
use std::sync::LazyLock;

#[defstate]
static STATE: u64 = 42;
#[defstate]
static ASYNC_STATE: u64 = async { 42 };
static LAZY_LOCK: LazyLock<u64> = LazyLock::new(|| 42);

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "get".to_owned());
    let n: u64 = args
        .next()
        .map_or(1_000_000, |n| n.parse().expect("a count"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // Realize everything first, so `n` = 0 pays the same setup.
    black_box(*STATE.get());
    black_box(*STATE.get_owned());
    black_box(*LAZY_LOCK);
    runtime.block_on(async { black_box(*ASYNC_STATE.get().await) });
    let mut sum = 0_u64;
    match kind.as_str() {
        "get" => (0..n).for_each(|_| sum += *black_box(&STATE).get()),
        "get_owned" => (0..n).for_each(|_| sum += *black_box(&STATE).get_owned()),
        "lazy_lock" => (0..n).for_each(|_| sum += **black_box(&LAZY_LOCK)),
        "async_get" => runtime.block_on(async {
            for _ in 0..n {
                sum += *black_box(&ASYNC_STATE).get().await;
            }
        }),
        "async_block" => runtime.block_on(async {
            for _ in 0..n {
                sum += async { *black_box(&42_u64) }.await;
            }
        }),
        other => panic!("unknown kind {other}"),
    }
    black_box(sum);
}
