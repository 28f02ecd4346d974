//! What started and stopped while a console command ran, from the runtime's own events
//! ([`watch`](crate::watch)): so the console can say what a `stop` or `restart` did however the
//! runtime goes about it (a restart that brings dependents back, or one that leaves them to
//! start on next use).
//!
//! Imports only the runtime's watch API (`watch`, `unwatch`, `Event`, through the crate root); must
//! not import `server` or `admin`.

use crate::{Event, StateInfo};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A state started or stopped, by name, in the order the runtime reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Started(String),
    Stopped(String),
}

/// Records the changes of every state while [`Recorder::during`] runs. One watch key per
/// recorder, removed when it is dropped.
pub(crate) struct Recorder {
    key: String,
    log: Arc<Mutex<Option<Vec<Change>>>>,
}

impl Recorder {
    pub(crate) fn new() -> Recorder {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let key = format!(
            "lifecycle::console#{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let log: Arc<Mutex<Option<Vec<Change>>>> = Arc::default();
        let sink = Arc::clone(&log);
        crate::watch(key.clone(), move |event: &Event, state: &StateInfo| {
            let change = match event {
                Event::Started => Change::Started(state.name().to_owned()),
                Event::Stopped => Change::Stopped(state.name().to_owned()),
                _ => return,
            };
            // Only pushes to a vector: never calls back into the runtime under the lock.
            if let Some(log) = sink.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
                log.push(change);
            }
        });
        Recorder { key, log }
    }

    fn set(&self, value: Option<Vec<Change>>) -> Option<Vec<Change>> {
        std::mem::replace(
            &mut *self.log.lock().unwrap_or_else(PoisonError::into_inner),
            value,
        )
    }

    /// Starts recording (forgetting anything recorded before).
    pub(crate) fn begin(&self) {
        self.set(Some(Vec::new()));
    }

    /// Stops recording and returns what was recorded since [`begin`](Self::begin).
    pub(crate) fn end(&self) -> Vec<Change> {
        self.set(None).unwrap_or_default()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        crate::unwatch(&self.key);
    }
}

/// The states stopped and the states started, each in event order, each name once.
pub(crate) fn split(changes: &[Change]) -> (Vec<String>, Vec<String>) {
    let (mut stopped, mut started) = (Vec::<String>::new(), Vec::<String>::new());
    for change in changes {
        let (list, name) = match change {
            Change::Stopped(name) => (&mut stopped, name),
            Change::Started(name) => (&mut started, name),
        };
        if !list.contains(name) {
            list.push(name.clone());
        }
    }
    (stopped, started)
}
