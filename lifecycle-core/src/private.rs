//! Not public API: the items generated code names, through `::lifecycle::__private`.
//!
//! Every item here is used by the expansion of a `lifecycle` macro and may change in any
//! release; nothing else should name it.
//!
//! Imports what generated code names, from `async_state`, `declared`, `diagnostics`, `error`,
//! `info`, `kernel`, `reload`, `resource`, `scope`, `shutdown`, `slot`, `state`, `stop_kind` and
//! `supervise`; must not import the crate root (it is the top layer).

/// Not public API, used by generated code: registration of static states for `declared()`.
pub use crate::declared::Declaration;
/// Not public API, used by generated code: the boxed error of start and stop functions.
pub use crate::error::BoxError;
/// Not public API, used by generated code.
pub use crate::error::Error;
/// Not public API, used by generated code: identity of a state.
pub use crate::info::StateInfo;
/// Not public API, used by generated code: the core of a static state.
pub use crate::state::Core;
/// Not public API, used by generated code: what a stop function may return.
/// Not public API, used by generated code.
pub use crate::state::State;
/// Not public API, used by generated code.
pub use ::core::{concat, file, line, module_path, stringify};
/// Not public API, used by generated code: link-time registration.
pub use inventory;

/// Not public API, used by generated code: the configuration of `#[defstate(supervise)]`.
pub use crate::supervise::Supervise;

/// Not public API, used by generated code: runs a `check = ...` on `value` (the parameter's
/// type comes from here) and gives its error as text.
pub fn check_value<T: ?Sized, E: ::core::fmt::Display>(
    value: &T,
    check: impl FnOnce(&T) -> Result<(), E>,
) -> Result<(), String> {
    crate::supervise::check_result(check(value))
}

/// Not public API, used by generated code: from the start of a `#[defstate(supervise)]`
/// static, registers it with the supervisor (once) and tells it a start begins.
pub fn supervise_static<T: Send + Sync + 'static>(
    state: &'static State<T>,
    config: Supervise,
    check: Option<crate::supervise::StaticCheck<T>>,
) {
    state.supervise_static(config, check);
}

/// Not public API, used by generated code: from the poll of the start of an async
/// `#[defstate(supervise)]` static, registers it with the supervisor (once) and tells it a
/// start begins (on the runtime the start runs on).
pub fn supervise_static_async<T: Send + Sync + 'static>(
    state: &'static AsyncState<T>,
    config: Supervise,
    check: Option<crate::supervise::StaticCheck<T>>,
) {
    state.supervise_static(config, check);
}

/// Not public API, used by generated code: as [`supervise_static_async`], with an async
/// check (`check = |v| async move { .. }`).
pub fn supervise_static_async_awaiting<T: Send + Sync + 'static>(
    state: &'static AsyncState<T>,
    config: Supervise,
    check: crate::async_state::StaticAsyncCheck<T>,
) {
    state.supervise_static_awaiting(config, check);
}

/// Not public API, used by generated code: the future of an async check on `value` (the
/// parameter's type comes from here), boxed, with its error as text.
pub fn check_future<T: Send + Sync + 'static, E, F>(
    value: AsyncRef<T>,
    check: impl FnOnce(AsyncRef<T>) -> F,
) -> BoxFuture<'static, Result<(), String>>
where
    E: ::core::fmt::Display,
    F: ::core::future::Future<Output = Result<(), E>> + Send + 'static,
{
    let checking = check(value);
    Box::pin(async move { crate::supervise::check_result(checking.await) })
}

/// Not public API, used by generated code: a static state over `core`.
pub const fn static_state<T: Send + Sync + 'static>(core: &'static Core<T>) -> State<T> {
    State::from_static(core)
}

/// Not public API, used by generated code: a local state without a stop function.
pub fn local_state<T, F>(info: StateInfo, start: F) -> State<T>
where
    T: Send + Sync + 'static,
    F: Fn() -> Result<T, BoxError> + Send + Sync + 'static,
{
    State::from_parts(info, start, None::<fn(T)>)
}

/// Not public API, used by generated code: a local state with a stop function.
pub fn local_state_with_stop<T, F, S, R>(info: StateInfo, start: F, stop: S) -> State<T>
where
    T: Send + Sync + 'static,
    F: Fn() -> Result<T, BoxError> + Send + Sync + 'static,
    S: Fn(T) -> R + Send + Sync + 'static,
    R: StopReturn,
{
    State::from_parts(info, start, Some(stop))
}

/// Not public API, used by generated code: calls a stop function and converts its result.
#[inline]
pub fn call_stop<T, R: StopReturn>(
    stop: impl FnOnce(T) -> R,
    value: T,
) -> Result<(), BoxError> {
    stop(value).into_stop_result()
}

/// Not public API, used by generated code: the closer of a system's parts.
pub use crate::resource::{Closer, Resource};
/// Not public API, used by generated code: the runtime of `with_resources!` and `mk_system!`.
pub use crate::resource::{resource, Checked};
pub use crate::scope::{open_failed, Branch, Opened, Outcome, Parts, System};
/// Not public API, used by generated code: what `#[lifecycle::main]` wraps `main` in.
pub use crate::shutdown::{main_result, MainGuard, MainOutcome, MainResult};
/// Not public API, used by generated code: the runtime of an async `main` runs SIGHUP's
/// reloads.
#[cfg(unix)]
pub use crate::shutdown::hangup::reload_on;
/// Not public API, used by generated code: no SIGHUP here, so nothing to run.
#[cfg(not(unix))]
pub fn reload_on(
    run: impl Fn(BoxFuture<'static, ReloadReport>) -> ReloadReport + Send + Sync + 'static,
) {
    drop(run);
}
/// Not public API, used by generated code: what `reload_on`'s runner is given and returns.
pub use crate::{kernel::BoxFuture, reload::ReloadReport};
use crate::slot::slot_core;
/// Not public API, used by generated code: the runtime of `defresource!`.
pub use crate::slot::Slot;
/// Not public API, used by generated code.
pub use ::core::ops::ControlFlow;

/// Not public API, used by generated code: the core of a static async state.
pub use crate::async_state::AsyncCore;
/// Not public API, used by generated code.
pub use crate::async_state::AsyncState;
/// Not public API, used by generated code: the guard an async check gets.
pub use crate::async_state::AsyncRef;
/// Not public API, used by generated code: boxes an async start (`async move { .. }` whose
/// output is `Result<T, E>`) and an async stop (output `()` or `Result<(), E>`).
pub use crate::async_state::{box_start, box_stop, IntoStopFuture, StartFuture, StopFuture};

/// Not public API, used by generated code: a static async state over `core`.
pub const fn static_async_state<T: Send + Sync + 'static>(
    core: &'static AsyncCore<T>,
) -> AsyncState<T> {
    AsyncState::from_static(core)
}

/// Not public API, used by generated code: calls an async state's stop function and boxes
/// the future it returns. The turbofish `call_async_stop::<T, _>` in generated code makes a
/// stop function of the wrong type an error on that function.
#[inline]
pub fn call_async_stop<T, F: IntoStopFuture>(stop: impl FnOnce(T) -> F, value: T) -> StopFuture {
    box_stop(stop(value))
}

/// Not public API, used by generated code: a local async state (`state!(async { .. })`).
pub fn local_async_state<T, S>(info: StateInfo, start: S) -> AsyncState<T>
where
    T: Send + Sync + 'static,
    S: Fn() -> StartFuture<T> + Send + Sync + 'static,
{
    use crate::async_state::{AsyncDefinition, AsyncStartFn, AsyncStopFn};
    AsyncState::from_definition(
        info,
        AsyncDefinition {
            start: AsyncStartFn::closure(start),
            stop: AsyncStopFn::None,
        },
    )
}

/// Not public API, used by generated code: a local async state with an async stop function.
pub fn local_async_state_with_stop<T, S, P, F>(info: StateInfo, start: S, stop: P) -> AsyncState<T>
where
    T: Send + Sync + 'static,
    S: Fn() -> StartFuture<T> + Send + Sync + 'static,
    P: Fn(T) -> F + Send + Sync + 'static,
    F: IntoStopFuture,
{
    local_async_state(info, start).with_stop(stop)
}

/// Not public API, used by generated code: the runtime of `with_resources!(async ...)` and
/// of `mk_system! { async struct ... }`.
pub use crate::async_state::{
    close_into, resource_async, AsyncOpened, AsyncParts, AsyncResource, AsyncSystem,
};

/// Not public API, used by doc examples and by the facade's console: runs a future to its end
/// on this thread, parking between polls, without an async runtime.
pub fn block_on<F: core::future::Future>(future: F) -> F::Output {
    crate::async_state::block_on(future, std::time::Duration::MAX)
        .expect("a future without a deadline finishes or blocks forever")
}

// --- constructors for generated code (macros helper) ---
//
// Generated code reaches every constructor through these free functions, so the runtime's
// types need no `#[doc(hidden)]` constructors of their own for it.

/// Not public API, used by generated code: the checks that give one error per mistake.
pub use crate::diagnostics::{
    StateValue, StaticAsyncCore, StaticAsyncState, StaticCore, StaticState, StaticTypes, StopReturn,
};
/// Not public API, used by generated code: a stop of an async state that returns a future
/// or a plain value.
pub use crate::stop_kind::{FutureStop, FutureStopKind, PlainStop, PlainStopKind};

/// Not public API, used by generated code: `StateInfo::new`.
#[inline]
pub const fn state_info(
    name: &'static str,
    module: &'static str,
    file: &'static str,
    line: u32,
    meta: &'static [(&'static str, &'static str)],
) -> StateInfo {
    StateInfo::new(name, module, file, line, meta)
}

/// Not public API, used by generated code (feature `hot`): `info` with the fingerprint
/// function of the state's start and stop tokens, which a hot patch is checked against.
#[cfg(feature = "hot")]
pub const fn fingerprinted(info: StateInfo, fingerprint: fn() -> u64) -> StateInfo {
    info.with_fingerprint(fingerprint)
}

/// Not public API, used by generated code: registers a static state for `declared()`.
#[inline]
pub const fn declaration<T: Send + Sync + 'static>(core: &'static Core<T>) -> Declaration {
    Declaration::new(core)
}

/// Not public API, used by generated code: registers a static async state for `declared()`.
#[inline]
pub const fn async_declaration<T: Send + Sync + 'static>(
    core: &'static AsyncCore<T>,
) -> Declaration {
    Declaration::new(core)
}

/// Not public API, used by generated code: the core of a static state.
#[inline]
pub const fn static_core<T>(
    info: StateInfo,
    start: fn() -> Result<T, BoxError>,
    stop: Option<fn(T) -> Result<(), BoxError>>,
) -> Core<T> {
    Core::new_static(info, start, stop)
}

/// Not public API, used by generated code: the core of a static async state.
#[inline]
pub const fn static_async_core<T>(
    info: StateInfo,
    start: fn() -> StartFuture<T>,
    stop: Option<fn(T) -> StopFuture>,
) -> AsyncCore<T> {
    AsyncCore::new_static(info, start, stop)
}

/// Not public API, used by generated code: the closer of a system's parts.
#[inline]
pub const fn closer() -> Closer {
    Closer::new()
}

/// Not public API, used by generated code: the core of a `defresource!` slot.
#[inline]
pub const fn slot_state_core<R: Resource + Send + Sync + 'static>(info: StateInfo) -> Core<R> {
    slot_core(info)
}

/// Not public API, used by generated code: a `defresource!` slot over its core.
#[inline]
pub const fn slot<R: Send + Sync + 'static>(core: &'static Core<R>) -> Slot<R> {
    Slot::from_core(core)
}

/// Not public API, used by generated code: calls a stop function and converts what it
/// returns (`()` or `Result<(), E>`), with [`StopReturn`] in the error when it is neither.
#[inline]
pub fn stop_with<T, R: StopReturn>(stop: impl FnOnce(T) -> R, value: T) -> Result<(), BoxError> {
    stop(value).into_stop_result()
}

/// Not public API, used by generated code: calls a stop function, typed `FnOnce(T) -> R`,
/// so that a closure's argument gets the state's type; the caller picks the conversion.
#[inline]
pub fn call_stop_fn<T, R>(stop: impl FnOnce(T) -> R, value: T) -> R {
    stop(value)
}

/// Not public API, used by generated code: `stop`, typed as a stop of `state`, so that a
/// closure's argument gets the state's value type.
#[inline]
pub fn stop_of<T: Send + Sync + 'static, R, P: Fn(T) -> R>(_state: &AsyncState<T>, stop: P) -> P {
    stop
}

/// Not public API, used by generated code: how `#[lifecycle::main]` prints an `Err`.
pub use crate::shutdown::{
    MainBoxedErrorKind, MainDebugKind, MainErrorKind, MainReport, MainReturned,
};

/// Not public API, used by generated code: holds `value` (checked to be a resource), opened
/// under `name`, closed on every exit path of the scope.
#[inline]
pub fn opened<R>(name: &'static str, value: Checked<R>) -> Opened<R> {
    Opened::new(name, value)
}

/// Not public API, used by generated code: the value of `opened`, no longer closed by it (a
/// system keeps it).
#[inline]
pub fn opened_into_inner<R>(opened: Opened<R>) -> R {
    opened.into_inner()
}

/// Not public API, used by generated code: closes `opened` after what came later in the
/// scope (`inner`), adding any failure to it.
#[inline]
pub fn close_after<R, T>(opened: Opened<R>, inner: Outcome<T>) -> Outcome<T> {
    opened.close_after(inner)
}

/// Not public API, used by generated code: closes a part checked to be a resource into
/// `closer`.
#[inline]
pub fn close_checked<R>(closer: &mut Closer, name: &str, resource: Checked<R>) {
    closer.close_checked(name, resource);
}

/// Not public API, used by generated code: the async twin of [`opened`].
#[inline]
pub fn async_opened<R: AsyncResource>(name: &'static str, value: R) -> AsyncOpened<R> {
    AsyncOpened::new(name, value)
}

/// Not public API, used by generated code: the async twin of [`opened_into_inner`].
#[inline]
pub fn async_opened_into_inner<R: AsyncResource>(opened: AsyncOpened<R>) -> R {
    opened.into_inner()
}

/// Not public API, used by generated code: the async twin of [`close_after`].
pub async fn async_close_after<R: AsyncResource, T>(
    opened: AsyncOpened<R>,
    inner: Outcome<T>,
) -> Outcome<T> {
    opened.close_after(inner).await
}
