//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod countdown;
pub mod eventually;

use std::sync::{Arc, Mutex, MutexGuard, Once, PoisonError};

/// An ordered log that start and stop functions write to.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }

    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Runs `f` with a watcher collecting `(event, state)` for states whose name starts with
/// `prefix`, and returns what it saw.
pub fn events_of(prefix: &'static str, f: impl FnOnce()) -> Vec<String> {
    let seen = Log::default();
    let sink = seen.clone();
    let key = format!("test-{prefix}");
    lifecycle::watch(key.clone(), move |event, state| {
        if state.name().starts_with(prefix) {
            sink.push(format!("{event:?} {}", state.name()));
        }
    });
    f();
    lifecycle::unwatch(&key);
    seen.take()
}

/// Takes this test binary's turn: `lifecycle::stop()`, `stop_where` and the stop timeout are
/// process-wide, so the tests of a binary that uses them run one at a time. A test that
/// panicked during its turn does not poison it for the next one.
///
/// Also keeps the panics the tests inject on purpose (their message contains
/// `injected fault`) from flooding the output; every other panic is printed as usual.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("");
            if !message.contains("injected fault") {
                default(info);
            }
        }));
    });
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `test` on a fresh multi-threaded runtime during this binary's [`serial`] turn (a sync
/// guard, held outside the async code).
pub fn serial_async(test: impl std::future::Future<Output = ()>) {
    let _serial = serial();
    runtime().block_on(test);
}

/// Sets the stop timeout for one test and restores the previous one when dropped (also when
/// the test panics).
pub struct StopTimeout(std::time::Duration);

impl StopTimeout {
    pub fn set(timeout: std::time::Duration) -> Self {
        let previous = lifecycle::stop_timeout();
        lifecycle::set_stop_timeout(timeout);
        Self(previous)
    }
}

impl Drop for StopTimeout {
    fn drop(&mut self) {
        lifecycle::set_stop_timeout(self.0);
    }
}

/// Shadows, in the calling module, the prelude's types and variants, `core` and `std`: the
/// names generated code must never reach for without an absolute path (`tests/hygiene.rs`,
/// and the resource macros' check in `tests/resources.rs`).
#[allow(unused_macros)]
macro_rules! shadow_prelude {
    () => {
        struct Result;
        struct Option;
        struct Some;
        struct None;
        struct Ok;
        struct Err;
        struct Box;
        struct Vec;
        struct String;
        mod core {}
        mod std {}
    };
}
#[allow(unused_imports)]
pub(crate) use shadow_prelude;

/// A fresh multi-threaded tokio runtime with two workers, as the async tests use.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `future` on a fresh [`runtime`]; a test that takes over a minute fails (a hang).
pub fn run<F: std::future::Future>(future: F) -> F::Output {
    runtime().block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(60), future)
            .await
            .expect("the test did not finish in time (a hang?)")
    })
}

/// The names of the states `lifecycle::status()` lists now.
pub fn status_names() -> Vec<String> {
    lifecycle::status()
        .iter()
        .map(|state| state.name().to_owned())
        .collect()
}

/// True if `lifecycle::status()` lists a state named `name`.
pub fn is_listed(name: &str) -> bool {
    lifecycle::status().iter().any(|s| s.name() == name)
}

/// A local state starting with `$value` whose info has the meta data `("bucket", $bucket)`
/// (declared where the macro is called: `file!()` is the caller's).
#[allow(unused_macros)]
macro_rules! in_bucket {
    ($name:expr, $bucket:expr, $value:expr) => {
        lifecycle::__private::local_state(
            lifecycle::StateInfo::new(
                $name,
                module_path!(),
                file!(),
                line!(),
                &[("bucket", $bucket)],
            ),
            || Ok($value),
        )
    };
}
#[allow(unused_imports)]
pub(crate) use in_bucket;

/// A test resource's close: logs `close {name}` with `push`, then fails with `{name} {why}`
/// if it was told to (`fails`: `Some(why)`).
pub fn logged_close(
    push: impl FnOnce(String),
    name: impl std::fmt::Display,
    fails: Option<&str>,
) -> Result<(), lifecycle::Error> {
    push(format!("close {name}"));
    match fails {
        Some(why) => Err(format!("{name} {why}").into()),
        None => Ok(()),
    }
}

/// How long a stress race runs: `STRESS_SECS` (valgrind and Miri set it), else `default`.
pub fn stress_seconds(default: f64) -> std::time::Duration {
    let secs = std::env::var("STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    std::time::Duration::from_secs_f64(secs)
}
