//! Shutdown: [`close_on_shutdown`], the SIGINT/SIGTERM handling and exit backstop that
//! [`install_shutdown`] (and `#[lifecycle::main]`) set up, and the teardown they run.
//!
//! # What happens when
//!
//! * **Teardown** is [`stop()`](crate::stop()): every active state, defined `defresource!`
//!   place and `close_on_shutdown` resource, in one reverse order of realization. Only one
//!   teardown runs at a time; a second caller waits for the first and then finds nothing left.
//! * **SIGINT or SIGTERM** (Unix): a dedicated thread (never the signal handler itself) runs
//!   the teardown, then the process ends *by that signal*, with the default action restored:
//!   the parent sees "killed by SIGINT/SIGTERM" and a shell reports 130/143. A second signal
//!   while the teardown runs ends the process at once, by the signal.
//! * **SIGHUP** (Unix, under `#[lifecycle::main]` only): a dedicated thread reloads the
//!   states marked `reload` ([`reload`](crate::reload())); the process never ends on it.
//! * **`std::process::exit`**: an `atexit` handler runs the teardown on a fresh thread
//!   (the exiting thread's thread-locals are already gone) before the process ends with the
//!   given code. Guards still held then are waited for at most 2 seconds.
//! * **`#[lifecycle::main]`**: the teardown runs when `main` returns (`Ok` or `Err`) or
//!   panics; see `__private::MainGuard` for the exit status.
//! * **A supervisor gives up** ([`Status::GaveUp`](crate::Status::GaveUp)) under
//!   `#[lifecycle::main]`: the teardown runs and the process exits with
//!   [`EXIT_GAVE_UP`](crate::EXIT_GAVE_UP) (70). Outside `#[lifecycle::main]` nothing more
//!   happens: the program decides (watch for [`Event::GaveUp`](crate::Event::GaveUp)).
//!
//! Signal handlers are registered with `signal-hook`, which chains them with handlers other
//! code installed, before or after.
//!
//! Imports `error`, `global` (the teardown is `stop()`), `info`, `kernel`, `resource`, `state`
//! (the stop timeout, in its tests), `supervise` (the exit when a supervisor gives up) and
//! `thread`; must not import `private`, which names its `MainGuard`.

use crate::error::{Error, StopReport};
use crate::info::StateInfo;
use crate::kernel as coord;
use crate::kernel::{Handle, Tracked};
use crate::resource::{close_named, Resource};
use crate::thread::Key;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

#[cfg(unix)]
pub(crate) mod hangup;
#[cfg(unix)]
mod signals;

/// Closes `resource` at shutdown: by [`stop()`](crate::stop()), on SIGINT/SIGTERM, at
/// `process::exit`, and when `#[lifecycle::main]`'s `main` ends — in one reverse order with
/// the states realized before and after it.
///
/// The first call installs the shutdown handling (see [`install_shutdown`]). The resource
/// is listed by [`status()`](crate::status) under its type name.
///
/// ```
/// use lifecycle::{close_on_shutdown, closeable};
///
/// close_on_shutdown(closeable("scratch.tmp", |path| println!("removing {path}")));
/// assert!(lifecycle::status().iter().any(|s| s.name().contains("Closeable")));
/// lifecycle::stop().unwrap();   // closes it, like any teardown
/// ```
#[track_caller]
pub fn close_on_shutdown<R: Resource + Send + 'static>(resource: R) {
    if let Err(error) = install_shutdown() {
        tracing::warn!("close_on_shutdown: {error}");
    }
    let caller = std::panic::Location::caller();
    let entry = Arc::new(OnShutdown {
        info: StateInfo::new(
            std::any::type_name::<R>(),
            "",
            caller.file(),
            caller.line(),
            &[],
        ),
        value: Mutex::new(Some(resource)),
    });
    let key = entry.key();
    let replaced = coord::world().registry.push(key, Handle::Shared(entry));
    drop(replaced);
}

/// A resource waiting for shutdown, tracked like a state.
struct OnShutdown<R> {
    info: StateInfo,
    /// Held while closing, so a second teardown waits for the first to finish this close.
    value: Mutex<Option<R>>,
}

impl<R> OnShutdown<R> {
    fn key(&self) -> Key {
        std::ptr::from_ref(self) as *const () as Key
    }
}

impl<R: Resource + Send + 'static> Tracked for OnShutdown<R> {
    fn info(&self) -> &StateInfo {
        &self.info
    }

    fn stop_tracked(&self, _force: bool) -> Result<(), Error> {
        let result = {
            let mut value = self.value.lock().unwrap_or_else(PoisonError::into_inner);
            match value.take() {
                Some(resource) => close_named(self.info.name(), resource),
                None => Ok(()),
            }
        };
        // The value is consumed either way, so the entry goes. The caller holds its own
        // handle, so this is not the last one.
        let handle = coord::world().registry.remove(self.key());
        drop(handle);
        result
    }
}

/// Installs the shutdown handling: SIGINT/SIGTERM run the teardown on a dedicated thread
/// and an `atexit` handler runs it at `process::exit` (both on Unix only; elsewhere this does
/// nothing yet). Idempotent.
/// `#[lifecycle::main]` and [`close_on_shutdown`] call it; call it yourself to get the same
/// behaviour without them.
pub fn install_shutdown() -> Result<(), Error> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            #[cfg(unix)]
            at_exit::install()?;
            #[cfg(unix)]
            signals::install().map_err(|error| format!("installing signal handlers: {error}"))?;
            Ok(())
        })
        .clone()
        .map_err(Error::from)
}

/// The signal that started a teardown, or 0.
static SIGNALLED: AtomicI32 = AtomicI32::new(0);

/// The signal that started the shutdown, if one did.
fn signalled() -> Option<i32> {
    match SIGNALLED.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Runs the teardown ([`stop()`](crate::stop())), one at a time.
fn teardown() -> Result<StopReport, Error> {
    static TEARDOWN: Mutex<()> = Mutex::new(());
    let _one = TEARDOWN.lock().unwrap_or_else(PoisonError::into_inner);
    crate::global::stop()
}

/// Runs the teardown and prints what failed to stderr; returns whether everything stopped.
fn teardown_and_report() -> bool {
    match teardown() {
        Ok(_) => true,
        Err(error) => {
            eprintln!("lifecycle: shutdown: {}", render_chain(&error));
            false
        }
    }
}

/// Ends the process by `signal` with its default action (so the parent sees the signal), or
/// with status 128 + `signal` if that does not end it.
#[cfg(unix)]
fn die_by(signal: i32) -> ! {
    signals::die_by(signal)
}

#[cfg(not(unix))]
fn die_by(signal: i32) -> ! {
    std::process::exit(128 + signal)
}

#[cfg(unix)]
mod at_exit {
    //! The `atexit` backstop: `process::exit` (or `exit` from C) still runs the teardown.

    use super::{coord, teardown_and_report};
    use crate::state::{set_stop_timeout, stop_timeout};
    use std::time::Duration;

    /// How long the teardown at exit waits for guards: the exiting thread may hold some and
    /// will never release them.
    const EXIT_STOP_TIMEOUT: Duration = Duration::from_secs(2);

    pub(super) fn install() -> Result<(), String> {
        // SAFETY: `run` is an `extern "C" fn()` that never unwinds (it catches panics).
        let status = unsafe { libc::atexit(run) };
        if status == 0 {
            Ok(())
        } else {
            Err("registering the atexit handler failed".to_owned())
        }
    }

    extern "C" fn run() {
        let idle = coord::world().registry.iter().next().is_none();
        if idle {
            return;
        }
        let teardown = || {
            if stop_timeout() > EXIT_STOP_TIMEOUT {
                set_stop_timeout(EXIT_STOP_TIMEOUT);
            }
            teardown_and_report();
        };
        // A fresh thread: the exiting thread's thread-locals (reader counts, tracing's
        // dispatcher) were destroyed before atexit handlers run.
        let outcome = match std::thread::Builder::new()
            .name("lifecycle-exit".to_owned())
            .spawn(teardown)
        {
            Ok(thread) => thread.join().map(drop),
            Err(_) => std::panic::catch_unwind(teardown),
        };
        if outcome.is_err() {
            eprintln!("lifecycle: shutdown at exit panicked");
        }
    }
}

/// What `#[lifecycle::main]`'s `main` may return: `()`, `Result<T, E>` or `ExitCode`.
#[diagnostic::on_unimplemented(
    message = "`#[lifecycle::main]` does not support a `main` that returns `{Self}`",
    label = "`main` returns `{Self}` here",
    note = "return `()`, `Result<(), E>` (with `E: Debug`) or `std::process::ExitCode`"
)]
pub trait MainResult: std::process::Termination {
    /// True if the value reports success (false when it cannot be known, as for `ExitCode`).
    fn is_success(&self) -> bool;
}

impl MainResult for () {
    fn is_success(&self) -> bool {
        true
    }
}

impl MainResult for std::process::ExitCode {
    fn is_success(&self) -> bool {
        false
    }
}

impl<T: std::process::Termination, E: std::fmt::Debug> MainResult for Result<T, E> {
    fn is_success(&self) -> bool {
        self.is_ok()
    }
}

/// Not public API, used by generated code: what `main` returned, reported.
pub struct MainOutcome {
    success: bool,
    code: std::process::ExitCode,
}

/// Not public API, used by generated code: reports what `main` returned (an `Err` prints
/// `Error: ...`), before the teardown. The only place `T: MainResult` is required, so an
/// unsupported return type gives one error, on the type.
pub fn main_result<T: MainResult>(result: T) -> MainOutcome {
    MainOutcome {
        success: result.is_success(),
        code: result.report(),
    }
}

/// Not public API, used by generated code: what `#[lifecycle::main]` wraps `main` in.
///
/// Exit status: what `main` returned (`Err` prints `Error: ...` and gives 1, as usual), but 1
/// if `main` succeeded and the teardown failed; 101 after a panic (the teardown runs while
/// the panic unwinds); the signal's own death after SIGINT/SIGTERM.
#[must_use = "call `finish` with main's result"]
pub struct MainGuard {
    finished: bool,
}

impl MainGuard {
    /// Installs the shutdown handling, SIGHUP's reload (see `shutdown::hangup`) and the exit
    /// after a supervisor gives up.
    pub fn start() -> Self {
        if let Err(error) = install_shutdown() {
            eprintln!("lifecycle: {error}");
        }
        #[cfg(unix)]
        if let Err(error) = hangup::install() {
            eprintln!("lifecycle: {error}");
        }
        crate::supervise::driver::on_give_up(gave_up_exit);
        Self { finished: false }
    }

    /// Runs the teardown after `main` returned `outcome`, and gives the exit status.
    pub fn finish(mut self, outcome: MainOutcome) -> std::process::ExitCode {
        self.finished = true;
        let MainOutcome { success, code } = outcome;
        let stopped = teardown_and_report();
        if let Some(signal) = signalled() {
            // A signal's teardown ran (or waited for ours): end the way the signal would.
            die_by(signal);
        }
        if success && !stopped {
            std::process::ExitCode::FAILURE
        } else {
            code
        }
    }
}

/// Under `#[lifecycle::main]`, after a supervisor gave up on a state: tear down in reverse
/// order and exit with [`EXIT_GAVE_UP`](crate::EXIT_GAVE_UP), so an orchestrator restarts the
/// process. Runs on the supervisor's thread.
fn gave_up_exit() {
    eprintln!("lifecycle: a supervised state failed too often; tearing down");
    teardown_and_report();
    std::process::exit(crate::supervise::EXIT_GAVE_UP);
}

impl Drop for MainGuard {
    fn drop(&mut self) {
        if !self.finished {
            // `main` panicked: tear down while the panic unwinds, then let it go on.
            teardown_and_report();
        }
    }
}

/// Not public API, used by generated code: what `main` returned, as `#[lifecycle::main]`
/// looks at it to pick how an `Err` is printed (see [`MainReport`]).
pub struct MainReturned<'a, R>(pub &'a R);

/// Not public API, used by generated code: an `Err` of `main`, already rendered with
/// `Display` and its source chain when the error type allows it.
///
/// Generated code calls `(&&&MainReturned(&returned)).lifecycle_main_kind()`; autoref
/// specialization picks [`MainErrorKind`] for `Result<T, E: Error>`, [`MainBoxedErrorKind`]
/// for `Result<T, Box<dyn Error ...>>`, and [`MainDebugKind`] otherwise (today's `Debug`
/// report, as for `anyhow::Error`, whose `Debug` already shows the chain).
pub struct MainReport(Option<String>);

/// Not public API, used by generated code: `main` returned `Result<T, E: Error>`.
pub trait MainErrorKind {
    /// The error rendered as `message` + `Caused by:` lines.
    fn lifecycle_main_kind(&self) -> MainReport;
}

impl<T, E: std::error::Error> MainErrorKind for &&MainReturned<'_, Result<T, E>> {
    fn lifecycle_main_kind(&self) -> MainReport {
        MainReport(self.0.as_ref().err().map(|error| render_chain(error)))
    }
}

/// Not public API, used by generated code: `main` returned `Result<T, Box<E>>` with
/// `E: Error + ?Sized` (`Box<dyn Error>` is not itself an `Error`).
pub trait MainBoxedErrorKind {
    /// The error rendered as `message` + `Caused by:` lines.
    fn lifecycle_main_kind(&self) -> MainReport;
}

impl<T, E: std::error::Error + ?Sized> MainBoxedErrorKind for &MainReturned<'_, Result<T, Box<E>>> {
    fn lifecycle_main_kind(&self) -> MainReport {
        MainReport(self.0.as_ref().err().map(|error| render_chain(&**error)))
    }
}

/// Not public API, used by generated code: any other return value, reported as before.
pub trait MainDebugKind {
    /// Nothing rendered: the value reports itself through `Termination`.
    fn lifecycle_main_kind(&self) -> MainReport;
}

impl<R> MainDebugKind for MainReturned<'_, R> {
    fn lifecycle_main_kind(&self) -> MainReport {
        MainReport(None)
    }
}

impl MainReport {
    /// Prints a rendered error (`Error: ...`, exit status 1), or reports `returned` with
    /// `report` (`main_result`, which prints an `Err` with `Debug`).
    pub fn finish<R>(self, returned: R, report: fn(R) -> MainOutcome) -> MainOutcome {
        match self.0 {
            Some(text) => {
                eprintln!("Error: {text}");
                drop(returned);
                MainOutcome {
                    success: false,
                    code: std::process::ExitCode::FAILURE,
                }
            }
            None => report(returned),
        }
    }
}

/// `error`'s `Display`, then one `Caused by:` line per source, as `anyhow` prints a chain.
fn render_chain<E: std::error::Error + ?Sized>(error: &E) -> String {
    use std::fmt::Write;
    let mut text = error.to_string();
    let mut source = error.source();
    if source.is_some() {
        text.push_str("\n\nCaused by:");
    }
    let mut index = 0;
    while let Some(cause) = source {
        let _ = write!(text, "\n    {index}: {cause}");
        index += 1;
        source = cause.source();
    }
    text
}
