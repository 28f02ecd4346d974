//! **The runtime of [`lifecycle`](https://docs.rs/lifecycle): tracked, resettable states.**
//!
//! Users depend on the `lifecycle` crate, which re-exports everything public here together
//! with the macros; this crate exists so the macros can be a separate proc-macro crate.
//!
//! # Where things are
//!
//! * [`State<T>`] — the state type and its guards ([`Ref`], [`Owned`]), in `state/`.
//! * [`status`], [`stop()`], [`stop_where`], [`graph`] — over every tracked state (`global`).
//! * [`watch`], [`unwatch`], [`Event`] — watchpoints (`watch`).
//! * [`start_all`], [`start_all_async`] — start the declared states concurrently
//!   (`start_all`).
//! * [`health`], [`health_of`] — liveness, readiness and each state's health (`health`).
//! * [`reload`], [`reload_async`] — reload the states marked reloadable: a new value is
//!   started beside the old one and swapped in only if that start succeeded (`reload`; the
//!   engine is `kernel/reload.rs`).
//! * [`startup_report`] — how long each state's last start took, and the critical chain
//!   (`report`).
//! * [`isolate`], [`isolate_async`] — private worlds for tests, and the scope of a thread's
//!   bindings; the rule that a binding never escapes its thread (`isolation/`).
//! * [`declared`] — every `#[defstate]` of the program, via `inventory` (`declared`).
//! * [`Supervise`], [`FailHandle`] — supervision: restart a failed state with its
//!   dependents, with backoff, until it fails too often (`supervise/`).
//! * [`Error`] — the one error type, naming the state involved (`error`).
//! * [`AsyncState<T>`] — states with an `async` start and stop, read with `.get().await`
//!   ([`AsyncRef`] guards), and [`stop_async`] over sync and async states (`async_state/`).
//! * [`Resource`], [`Closeable`], [`Closer`] — things closed after use, in reverse order
//!   (`resource/`); [`Slot`] — the global place of `defresource!` (`slot`); the runtime of
//!   `with_resources!` and `mk_system!` (`scope`).
//! * [`Atom`] — a swappable shared value, the container of the restart pattern (`atom`).
//! * [`close_on_shutdown`], [`install_shutdown`] — teardown on SIGINT/SIGTERM and at exit
//!   (`shutdown`).
//!
//! # Layers
//!
//! Modules import downwards only (`tests/layers.rs` checks it):
//!
//! 1. base: `thread` (per-thread bookkeeping), `status`, `info`, `error`, `exec` (timers,
//!    timeouts, `block_on`), `unwind`, `watch`, `code` (the hot-patch jump table),
//!    `background` (a blocking call awaited as a future), and `isolation` (per-thread
//!    private worlds, over `thread`);
//! 2. `kernel/`: the value cell and reader protocol (the only `unsafe` about values), the one
//!    phase table, the world (its lock, cycle search and transitions), the registry, the
//!    dependency graph, the one restart and reload, and the stop timeout;
//! 3. over the kernel: `declared`, `supervise/` (the supervisor, over the kernel's restart),
//!    `reload`, `hot`, `stop_worker` and `global` (over `stop_worker`); the reports and bulk
//!    starts over `global` and `declared` (`report`, `start_all`, `health`);
//! 4. the sync driver `state/` (waits on a condition variable, calls), then resources and
//!    systems (`resource/`, `scope`), and over them `slot`, `atom` and `shutdown`;
//! 5. the async driver `async_state/` (parks wakers, polls), over `state/`'s shared
//!    definitions, `global` and the resources; then `diagnostics`, `stop_kind` and
//!    `private`, the names generated code uses.
//!
//! Imports only its own submodules (to re-export them); must not be imported by them, since its
//! re-exports reach everything.
//!
//! # Dependencies
//!
//! * `inventory` — collects every `#[defstate]` at link time for [`declared`].
//! * `thiserror` — derives `Display`/`Error` for [`Error`].
//! * `tracing` — warnings and debug events (redefine skipped, stop failures, duplicates).
//! * `libc` (Linux) — the `membarrier` system call of the read path's fence (`barrier`); (Unix)
//!   `atexit`, so `process::exit` still runs the teardown (`shutdown`).
//! * `signal-hook` (Unix) — SIGINT/SIGTERM handling that chains with other handlers and hands
//!   the signal to a thread through a self-pipe, so no teardown runs in a signal handler
//!   (`shutdown`), and SIGHUP, which reloads the reloadable states on a thread of its own.
//!   Only its `iterator` feature.
//! * `serde` (only with the `serde` feature) — `Serialize` for [`Health`].
//! * `tokio` (only with the `tokio` feature) — a supervised async state restarts on the tokio
//!   runtime it started on, so the tasks its start spawns survive (`supervise/runtime`).
//! * `loom` (only under `cfg(loom)`) — model checks of the kernel.
//!
//! No async runtime: [`AsyncState`] works on any executor. Its timeouts are served by one
//! lazily spawned timer thread, and sync callers that must finish an async stop
//! ([`stop()`], dropping a local async state) drive it by parking their thread. Tokio is only
//! a dev-dependency of the `lifecycle` crate (tests and examples).

#![deny(unsafe_op_in_unsafe_fn)]
// Under loom only the kernel is built, and only its model tests use it.
#![cfg_attr(loom, allow(dead_code))]
#![warn(missing_docs)]

/// Applies `#[cfg(not(loom))]` to each item: under loom only the kernel is built.
macro_rules! not_under_loom {
    ($($item:item)*) => { $( #[cfg(not(loom))] $item )* };
}

mod kernel;
mod thread;

not_under_loom! {
    mod async_state;
    mod background;
    mod code;
    mod declared;
    mod diagnostics;
    mod error;
    mod exec;
    mod global;
    mod health;
    #[cfg(feature = "hot")]
    mod hot;
    mod info;
    mod isolation;
    #[doc(hidden)]
    pub mod private;
    mod reload;
    mod report;
    mod start_all;
    mod state;
    mod status;
    mod stop_kind;
    mod supervise;
    mod stop_worker;
    mod unwind;
    mod watch;

    // Resources, systems and shutdown (issue 4).
    mod atom;
    mod resource;
    mod scope;
    mod shutdown;
    mod slot;
}

#[cfg(not(loom))]
pub use crate::{
    atom::Atom,
    resource::{closeable, CloseFn, Closeable, Closer, Resource},
    scope::Opened,
    shutdown::{close_on_shutdown, install_shutdown},
    slot::Slot,
};

#[cfg(not(loom))]
pub use crate::async_state::{
    stop_async, stop_async_where, stop_async_within, AsyncOpened, AsyncRef, AsyncResource,
    AsyncState,
};

#[cfg(all(not(loom), feature = "hot"))]
pub use crate::hot::{apply, changed, code_of, fingerprint_of, on_patch, HotReport, JumpTable};
/// `subsecond::call`, as `lifecycle::hot::call`.
#[cfg(all(not(loom), feature = "hot"))]
pub use subsecond::call as hot_call;

#[cfg(not(loom))]
pub use crate::{
    declared::{declared, Declaration},
    error::{BoxError, Error, StopReport},
    global::{graph, status, stop, stop_where, stop_within},
    health::{health, health_of, Health, StateHealth},
    info::StateInfo,
    isolation::{isolate, isolate_async, try_isolate, try_isolate_async},
    kernel::{set_stop_timeout, stop_timeout, Graph, Redefine, Restarted},
    reload::{reload, reload_async, ReloadReport},
    report::{startup_report, Blame, StartupReport},
    start_all::{
        start_all, start_all_async, start_all_async_where, start_all_where, StartAllReport,
    },
    state::{BindGuard, Owned, Ref, State},
    status::Status,
    supervise::{FailHandle, Supervise, EXIT_GAVE_UP},
    watch::{unwatch, watch, Event},
};
