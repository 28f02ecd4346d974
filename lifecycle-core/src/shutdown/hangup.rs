//! SIGHUP under `#[lifecycle::main]`: [`reload_async`](crate::reload_async) of every
//! reloadable state, on the `lifecycle-reload` thread (never in the signal handler), once
//! per signal (signals that arrive during a reload are coalesced into one more reload).
//!
//! The process never ends on SIGHUP: a failed reload is logged (`tracing`, and the
//! `ReloadFailed` watch event) and the old values keep serving. When `main` is async on
//! tokio, the generated code hands over the program's runtime ([`reload_on`]), so async
//! starts spawn their tasks there; otherwise the reload is driven on the thread itself.
//!
//! Imports `error`, `exec`, `kernel` and `reload`; must not import `private`, which names
//! [`reload_on`].

use crate::kernel::BoxFuture;
use crate::reload::{reload_async, ReloadReport};
use signal_hook::consts::SIGHUP;
use signal_hook::iterator::Signals;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::Duration;

/// Drives a reload to its end on the program's runtime.
type Runner = Box<dyn Fn(BoxFuture<'static, ReloadReport>) -> ReloadReport + Send + Sync>;

static RUNNER: OnceLock<Runner> = OnceLock::new();

/// Not public API, used by generated code: SIGHUP reloads run with `run` (the runtime of an
/// async `main`: `|reload| handle.block_on(reload)`). The first call wins.
pub fn reload_on(
    run: impl Fn(BoxFuture<'static, ReloadReport>) -> ReloadReport + Send + Sync + 'static,
) {
    let _ = RUNNER.set(Box::new(run));
}

/// Registers the SIGHUP handler and starts the thread that reloads on it (once).
pub(crate) fn install() -> Result<(), String> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            let mut signals =
                Signals::new([SIGHUP]).map_err(|error| format!("handling SIGHUP: {error}"))?;
            std::thread::Builder::new()
                .name("lifecycle-reload".to_owned())
                .spawn(move || {
                    for _ in signals.forever() {
                        reload_now();
                    }
                })
                .map(drop)
                .map_err(|error| format!("starting the SIGHUP thread: {error}"))
        })
        .clone()
}

/// One reload, reported; a panic (a runtime gone at the end of `main`) is logged too.
fn reload_now() {
    tracing::info!("SIGHUP: reloading the reloadable states");
    let reloaded = catch_unwind(AssertUnwindSafe(|| match RUNNER.get() {
        Some(run) => run(Box::pin(reload_async())),
        None => crate::exec::block_on(reload_async(), Duration::MAX)
            .expect("a reload without a deadline ends"),
    }));
    match reloaded {
        Ok(report) if report.is_ok() => tracing::info!("SIGHUP: {report}"),
        Ok(report) => tracing::warn!("SIGHUP: {report}; the old values keep serving"),
        Err(payload) => tracing::error!(
            "SIGHUP: the reload panicked: {}",
            crate::error::panic_message(&*payload)
        ),
    }
}
