//! SIGINT and SIGTERM: the first runs the teardown on a dedicated thread and then ends the
//! process by the same signal; a second one, while the teardown runs, ends it at once.
//!
//! The handlers (registered with `signal-hook`, chained with any others) only set a flag and
//! write to signal-hook's self-pipe; all teardown work happens on the `lifecycle-signals`
//! thread, never inside a signal handler.
//!
//! Imports only its parent `shutdown` (the teardown); must not import `private`.

use super::{teardown_and_report, SIGNALLED};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use signal_hook::{flag, low_level};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(super) fn install() -> std::io::Result<()> {
    let armed = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Order matters: signal-hook runs a signal's actions in registration order, so the
        // first signal finds the flag down (and raises it), the second finds it up and ends
        // the process with the signal's default action. Both actions are async-signal-safe.
        flag::register_conditional_default(signal, Arc::clone(&armed))?;
        flag::register(signal, Arc::clone(&armed))?;
    }
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    std::thread::Builder::new()
        .name("lifecycle-signals".to_owned())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                SIGNALLED.store(signal, Ordering::SeqCst);
                teardown_and_report();
                die_by(signal);
            }
        })?;
    Ok(())
}

/// Ends the process by `signal` with its default action, falling back to `_exit(128 + n)`.
pub(super) fn die_by(signal: i32) -> ! {
    let _ = low_level::emulate_default_handler(signal);
    low_level::exit(128 + signal)
}
