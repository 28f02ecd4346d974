//! **Hot code reload: save an edit to a start function and the running program restarts just
//! the states it changed, with the new code, keeping the others warm.** (Feature `hot`.)
//!
//! Under `dx serve --hot-patch` (dioxus-cli), `subsecond` patches the functions of the
//! running binary. With this feature every start and stop function of a state — sync or
//! async, `#[defstate]`, `defstate!`, `state!`, `State::new` — is called through the patch's
//! jump table, and after each patch `lifecycle` restarts the realized states whose start or
//! stop function the patch changed, with their dependents (dependents stop first and come
//! back after), as [`State::restart`](crate::State::restart) does. Every other state keeps
//! its value. See `docs/hot-reload.md` for the commands and what can be patched.
//!
//! ```no_run
//! #[lifecycle::main]
//! #[tokio::main]
//! async fn main() {
//!     let runtime = tokio::runtime::Handle::current();
//!     // Restarts run on the patch thread, inside the runtime (servers bind there).
//!     lifecycle::hot::connect_with(move |restart| {
//!         let _entered = runtime.enter();
//!         restart();
//!     });
//!     // ... start states, serve ...
//! }
//! ```
//!
//! # Details
//!
//! - [`connect`] / [`connect_with`] connect to the `dx` dev server
//!   (`dioxus_devtools::connect_subsecond`) and register the after-patch handler
//!   ([`on_patch`]); without `dx` (no dev server in the environment) nothing happens.
//! - Each hot restart emits [`Event::HotRestarted`](crate::Event::HotRestarted) for the state
//!   whose code changed and logs one `tracing` INFO line with the time from the patch to the
//!   state serving again; a failed restart leaves the state unrealized (its start failed) or
//!   failed (its stop failed), reported in [`HotReport::errors`] and logged at ERROR.
//! - Which states changed: `subsecond` puts every function of a rebuilt crate in its table,
//!   changed or not, so addresses alone cannot tell. A state declared with a macro
//!   (`#[defstate]`, `defstate!`, `state!`) changed if the tokens of its start or stop
//!   expression did: the macro generates a function answering their hash, which is called
//!   through the old and the new table ([`fingerprint_of`]). Edits of helpers the start calls
//!   are not seen (call live code through [`call`]). A state made from closures
//!   (`State::new`) changed if [`changed`] says so of its functions' addresses, so it
//!   restarts on every patch of its crate. [`apply`] takes a table directly, which is how the
//!   tests feed synthetic ones.
//! - With the feature off, calls go straight to the functions: no cost.
//!
//! # Dependencies
//!
//! `subsecond` (through lifecycle-core: the jump table and the patch handlers) and
//! `dioxus-devtools` (the connection to the `dx` dev server that delivers the patches; it
//! brings about 130 crates, which is why the feature is for development builds).
//!
//! Imports only the runtime's hot-reload API, re-exported from `lifecycle-core`, and
//! `dioxus-devtools`; must not import `console`, `server` or `admin`.

pub use lifecycle_core::{apply, changed, code_of, fingerprint_of, on_patch, HotReport, JumpTable};

/// Calls `f` as the newest patch has it (`subsecond::call`): code that is not a state's start
/// or stop, such as a request handler's body, is served patched at once, with no restart.
pub use lifecycle_core::hot_call as call;

/// Connects to the `dx` dev server and restarts, after each patch, the states it changed;
/// the restarts run on the patch thread as they are. For states whose start needs a context
/// (an async runtime), use [`connect_with`].
pub fn connect() {
    connect_with(|restart| restart());
}

/// Like [`connect`]; `enter` runs each patch's restarts, inside the context it sets up.
pub fn connect_with(enter: impl Fn(&mut dyn FnMut()) + Send + Sync + 'static) {
    on_patch(enter);
    dioxus_devtools::connect_subsecond();
}
