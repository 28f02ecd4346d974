//! The fixture most families share: a chain of three dependent states whose starts, stops
//! and values' `Drop` fail, panic or stick on command, and which checks after a fault that
//! every start is matched by one stop and that the chain is usable again.

use crate::{assert_nothing_broken, broken, INJECTED};
use lifecycle::{BoxError, State};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};

pub(crate) const OK: u8 = 0;
pub(crate) const FAIL: u8 = 1;
pub(crate) const PANIC: u8 = 2;
/// The value's `Drop` panics (stop faults only).
pub(crate) const DROP_PANIC: u8 = 3;
/// The stop function does not return until the chain's gate opens (stop faults only).
pub(crate) const STUCK: u8 = 4;

pub(crate) const POSITIONS: [&str; 3] = ["first", "middle", "last"];

pub(crate) fn kind_name(kind: u8) -> &'static str {
    match kind {
        FAIL => "error",
        PANIC => "panic",
        DROP_PANIC => "panic in Drop",
        STUCK => "never returns",
        _ => "none",
    }
}

/// How one state of a chain misbehaves, and what it did.
#[derive(Debug, Default)]
pub(crate) struct Knobs {
    pub(crate) start: AtomicU8,
    pub(crate) stop: AtomicU8,
    pub(crate) starts: AtomicUsize,
    pub(crate) stops: AtomicUsize,
    /// Stuck stops wait here until it opens.
    pub(crate) gate: Gate,
}

/// A gate that stuck stops wait at.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open: Mutex<bool>,
    opened: std::sync::Condvar,
}

impl Gate {
    pub(crate) fn wait(&self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        while !*open {
            open = self
                .opened
                .wait(open)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    pub(crate) fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.opened.notify_all();
    }
}

/// Opens a gate when dropped: a test that fails while a thread of its scope waits at the
/// gate then fails instead of hanging in the scope's join.
pub(crate) struct OpenOnDrop<'a>(pub(crate) &'a Gate);

impl Drop for OpenOnDrop<'_> {
    fn drop(&mut self) {
        self.0.open();
    }
}

/// A chain's value: `open` until its stop ran; its `Drop` panics when its knobs say so.
#[derive(Debug)]
pub(crate) struct Value {
    name: String,
    knobs: Arc<Knobs>,
    pub(crate) open: AtomicBool,
}

impl Drop for Value {
    fn drop(&mut self) {
        if self.knobs.stop.load(SeqCst) == DROP_PANIC && !std::thread::panicking() {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: {} panicked in Drop", self.name);
        }
    }
}

pub(crate) fn inject(knob: &AtomicU8, what: &str) -> Result<(), BoxError> {
    match knob.load(SeqCst) {
        FAIL => {
            INJECTED.fetch_add(1, SeqCst);
            Err(format!("injected fault: {what} failed").into())
        }
        PANIC => {
            INJECTED.fetch_add(1, SeqCst);
            panic!("injected fault: {what} panicked")
        }
        _ => Ok(()),
    }
}

pub(crate) fn inject_stop(knobs: &Knobs, what: &str) -> Result<(), BoxError> {
    if knobs.stop.load(SeqCst) == STUCK {
        INJECTED.fetch_add(1, SeqCst);
        knobs.gate.wait();
        return Ok(());
    }
    inject(&knobs.stop, what)
}

/// Three states: `last`'s start reads `middle`, whose start reads `first`.
pub(crate) struct Chain {
    pub(crate) states: Vec<Arc<State<Value>>>,
    pub(crate) knobs: Vec<Arc<Knobs>>,
    pub(crate) names: Vec<String>,
    pub(crate) prefix: String,
}

impl Chain {
    pub(crate) fn new(tag: &str) -> Self {
        let prefix = format!("faults::{tag}::");
        let mut chain = Chain {
            states: Vec::new(),
            knobs: Vec::new(),
            names: Vec::new(),
            prefix: prefix.clone(),
        };
        for position in POSITIONS {
            let name = format!("{prefix}{position}");
            let knobs = Arc::new(Knobs::default());
            let dependency = chain.states.last().cloned();
            let (on_start, on_stop) = (Arc::clone(&knobs), Arc::clone(&knobs));
            let (start_name, stop_name) = (name.clone(), name.clone());
            let state = State::new(name.clone(), move || {
                if let Some(dependency) = &dependency {
                    let value = dependency.try_get()?;
                    if !value.open.load(SeqCst) {
                        broken(format!("{start_name} read a stopped dependency"));
                    }
                }
                inject(&on_start.start, &format!("start of {start_name}"))?;
                on_start.starts.fetch_add(1, SeqCst);
                Ok(Value {
                    name: start_name.clone(),
                    knobs: Arc::clone(&on_start),
                    open: AtomicBool::new(true),
                })
            })
            .with_stop(move |value: Value| -> Result<(), BoxError> {
                on_stop.stops.fetch_add(1, SeqCst);
                if !value.open.swap(false, SeqCst) {
                    broken(format!("{stop_name} stopped twice"));
                }
                inject_stop(&on_stop, &format!("stop of {stop_name}"))
                // `value` drops here: its `Drop` may panic.
            });
            chain.states.push(Arc::new(state));
            chain.knobs.push(knobs);
            chain.names.push(name);
        }
        chain
    }

    pub(crate) fn first(&self) -> &State<Value> {
        &self.states[0]
    }

    pub(crate) fn last(&self) -> &State<Value> {
        &self.states[2]
    }

    pub(crate) fn realized(&self) -> Vec<bool> {
        self.states.iter().map(|s| s.is_realized()).collect()
    }

    pub(crate) fn counts(&self) -> (Vec<usize>, Vec<usize>) {
        (
            self.knobs.iter().map(|k| k.starts.load(SeqCst)).collect(),
            self.knobs.iter().map(|k| k.stops.load(SeqCst)).collect(),
        )
    }

    pub(crate) fn disarm(&self) {
        for knobs in &self.knobs {
            knobs.start.store(OK, SeqCst);
            knobs.stop.store(OK, SeqCst);
        }
    }

    /// The names of ours among `names`.
    pub(crate) fn ours(&self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|n| n.starts_with(&self.prefix))
            .cloned()
            .collect()
    }

    pub(crate) fn reversed(&self, skip: Option<usize>) -> Vec<String> {
        (0..3)
            .rev()
            .filter(|i| Some(*i) != skip)
            .map(|i| self.names[i].clone())
            .collect()
    }

    /// Every start is matched by one stop, except the values that are there now.
    pub(crate) fn assert_balanced(&self, scenario: &str) {
        let (starts, stops) = self.counts();
        for i in 0..3 {
            let live = usize::from(self.states[i].is_realized());
            assert_eq!(
                starts[i],
                stops[i] + live,
                "{scenario}: {} started {} times, stopped {} times",
                self.names[i],
                starts[i],
                stops[i]
            );
        }
        assert_nothing_broken();
    }

    /// After the fault: without faults, the whole chain starts, reads, restarts and stops
    /// again as if nothing had happened.
    pub(crate) fn assert_usable(&self, scenario: &str) {
        self.disarm();
        for state in self.states.iter().rev() {
            state
                .force_close()
                .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        }
        assert_eq!(self.realized(), [false; 3], "{scenario}");
        let value = self
            .last()
            .try_get()
            .unwrap_or_else(|e| panic!("{scenario}: {e}"));
        assert!(value.open.load(SeqCst), "{scenario}");
        drop(value);
        assert_eq!(self.realized(), [true; 3], "{scenario}");
        self.first()
            .restart_alone()
            .unwrap_or_else(|e| panic!("{scenario}: restart: {e}"));
        assert_eq!(self.realized(), [true, false, false], "{scenario}");
        self.last().get();
        let report = lifecycle::stop().unwrap_or_else(|e| panic!("{scenario}: stop(): {e}"));
        assert_eq!(
            self.ours(&report.stopped),
            self.reversed(None),
            "{scenario}"
        );
        assert_eq!(self.realized(), [false; 3], "{scenario}");
        self.assert_balanced(scenario);
    }
}
