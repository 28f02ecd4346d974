//! Systems and scopes against the same code written by hand: `mk_system!` start + close and
//! `with_resources!` open + body + close, each with three parts. Target: within 5 % of the
//! hand-written code (the allocation side is a test: `tests/system.rs` counts allocations).
//!
//! Run with `cargo bench --bench systems`; `BENCHMARKS.md` explains the figures.

mod common;

use criterion::Criterion;
use lifecycle::prelude::*;
use lifecycle::Error;
use std::hint::black_box;
use std::time::Duration;

/// A part that does a little real work to open and close.
struct Part(u64);

impl Resource for Part {
    fn close(self) -> Result<(), Error> {
        black_box(self.0);
        Ok(())
    }
}

fn open(seed: u64) -> Result<Part, Error> {
    Ok(Part(black_box(seed).wrapping_mul(31)))
}

mk_system! {
    struct Trio(seed: u64) {
        a: Part = open(seed)?,
        b: Part = open(a.0)?,
        c: Part = open(b.0)?,
    }
}

/// What `Trio::start` + `close` do, by hand: roll back on a failed open, close in reverse,
/// keep the first close error and try every part.
#[inline(never)] // each variant is measured as a call, the way programs use it
fn trio_by_hand(seed: u64) -> Result<u64, Error> {
    let a = open(seed)?;
    let b = match open(a.0) {
        Ok(b) => b,
        Err(error) => {
            let _ = a.close();
            return Err(error);
        }
    };
    let c = match open(b.0) {
        Ok(c) => c,
        Err(error) => {
            let _ = b.close();
            let _ = a.close();
            return Err(error);
        }
    };
    let sum = a.0 ^ b.0 ^ c.0;
    let mut first_error = None;
    if let Err(error) = c.close() {
        first_error.get_or_insert(error);
    }
    if let Err(error) = b.close() {
        first_error.get_or_insert(error);
    }
    if let Err(error) = a.close() {
        first_error.get_or_insert(error);
    }
    first_error.map_or(Ok(sum), Err)
}

/// `trio_by_hand` with the guarantee the macros give: a panicking close is caught, reported,
/// and does not keep the other parts from closing.
#[inline(never)] // each variant is measured as a call, the way programs use it
fn trio_by_hand_panic_safe(seed: u64) -> Result<u64, Error> {
    fn close_caught(part: Part) -> Result<(), Error> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| part.close()))
            .unwrap_or_else(|_| Err("a close panicked".into()))
    }
    let a = open(seed)?;
    let b = match open(a.0) {
        Ok(b) => b,
        Err(error) => {
            let _ = close_caught(a);
            return Err(error);
        }
    };
    let c = match open(b.0) {
        Ok(c) => c,
        Err(error) => {
            let _ = close_caught(b);
            let _ = close_caught(a);
            return Err(error);
        }
    };
    let sum = a.0 ^ b.0 ^ c.0;
    let mut first_error = None;
    if let Err(error) = close_caught(c) {
        first_error.get_or_insert(error);
    }
    if let Err(error) = close_caught(b) {
        first_error.get_or_insert(error);
    }
    if let Err(error) = close_caught(a) {
        first_error.get_or_insert(error);
    }
    first_error.map_or(Ok(sum), Err)
}

#[inline(never)] // each variant is measured as a call, the way programs use it
fn trio_system(seed: u64) -> Result<u64, Error> {
    let trio = Trio::start(seed)?;
    let sum = trio.a.0 ^ trio.b.0 ^ trio.c.0;
    trio.close()?;
    Ok(sum)
}

#[inline(never)] // each variant is measured as a call, the way programs use it
fn scope_macro(seed: u64) -> Result<u64, Error> {
    with_resources!([a = open(seed)?, b = open(a.0)?, c = open(b.0)?] { a.0 ^ b.0 ^ c.0 })
}

fn systems(c: &mut Criterion) {
    let mut group = c.benchmark_group("systems");
    group.bench_function("by_hand", |b| {
        b.iter(|| trio_by_hand(black_box(7)).unwrap())
    });
    group.bench_function("by_hand_panic_safe", |b| {
        b.iter(|| trio_by_hand_panic_safe(black_box(7)).unwrap());
    });
    group.bench_function("mk_system", |b| {
        b.iter(|| trio_system(black_box(7)).unwrap())
    });
    group.bench_function("with_resources", |b| {
        b.iter(|| scope_macro(black_box(7)).unwrap())
    });
    group.finish();
}

bench_main!(systems, Duration::from_millis(500), 30);
