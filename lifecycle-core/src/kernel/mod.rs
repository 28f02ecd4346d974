//! The kernel: everything sync and async states share, written once.
//!
//! It owns the value cell and its reader protocol (`cell`, `readers`, `barrier`, `sync` —
//! the only `unsafe` about values), the one phase table (`phases`: `Starting(owner)`,
//! `Stopping(owner)`, `Failed`, each start and stop under a unique ticket), the world
//! (`world`: one lock over the phase table, the wait-for graph and its one cycle search, the
//! parked tasks, the registry and the dependency edges, with the lock-held transitions
//! `acquire` (begin start / begin stop), `conclude_start`, `conclude_stop`, `abandon_stop`),
//! how a start or stop ends (`outcome`), the registry of realized states (`registry`), the
//! dependency graph (`graph`), the one restart (`restart`) and the one reload (`reload`),
//! and the stop timeout (`timeout`).
//!
//! The sync (`state/`) and async (`async_state/`) drivers only wait (condition variable or
//! waker) and call user code (call or poll). The kernel must not import them, nor anything
//! above it: only the base modules `error`, `exec`, `info`, `status`, `thread` and `watch`.
//!
//! Under `cfg(loom)` only the parts the loom models check are built (`loom_tests`).
//!
//! Imports only its own submodules; must not import `state` or `async_state`.

pub(crate) mod barrier;
pub(crate) mod cell;
pub(crate) mod phases;
pub(crate) mod sync;

not_under_loom! {
    mod critical;
    pub(crate) mod driver;
    pub(crate) mod graph;
    pub(crate) mod outcome;
    pub(crate) mod readers;
    pub(crate) mod registry;
    pub(crate) mod reload;
    pub(crate) mod restart;
    mod restarted;
    mod timeout;
    pub(crate) mod timings;
    pub(crate) mod world;
}

#[cfg(all(test, loom))]
mod loom_harness;
#[cfg(all(test, loom))]
mod loom_owned;
#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(not(loom))]
pub use self::{
    graph::Graph,
    outcome::{Redefine, Restarted},
    registry::BoxFuture,
    timeout::{set_stop_timeout, stop_timeout},
};
#[cfg(not(loom))]
pub(crate) use self::{
    outcome::{
        announce_start, cancel_stop, finish_stop, redefine, start_result, stop_failure, stop_ticket,
    },
    phases::{By, StopClaim},
    registry::{Handle, Tracked},
    timeout::backstop,
    world::{world, Granted, Turn, Want},
};
