//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

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
