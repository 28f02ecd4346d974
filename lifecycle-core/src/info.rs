//! Identity of a state: name, where it was declared, and its meta data (plus, in the entries of
//! `status()` and `graph()`, what it is doing and how its last start went).
//!
//! Imports only `status`; must not import `kernel` or anything else above the base modules.

use crate::status::Status;
use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

/// Who a state is: its name, where it was declared, and its `meta` pairs.
#[derive(Clone)]
pub struct StateInfo {
    pub(crate) name: Cow<'static, str>,
    pub(crate) module: &'static str,
    pub(crate) file: &'static str,
    pub(crate) line: u32,
    pub(crate) meta: &'static [(&'static str, &'static str)],
    /// Set in the entries of `lifecycle::status()` only.
    pub(crate) status: Option<Status>,
    /// Set in the entries of `lifecycle::status()` and `graph()` only, once a start ended.
    pub(crate) start: Option<(SystemTime, Duration)>,
    /// Reloaded by `lifecycle::reload()` (and SIGHUP under `#[lifecycle::main]`).
    pub(crate) reload: bool,
    /// Answers the hash of the start and stop tokens the macro saw, through the jump table
    /// (`hot`): what a hot patch is checked against; `None` for states made from closures.
    #[cfg(feature = "hot")]
    pub(crate) fingerprint: Option<fn() -> u64>,
}

impl StateInfo {
    /// Describes a state declared at `module`/`file`/`line` (used by generated code and by
    /// hand-made states).
    pub const fn new(
        name: &'static str,
        module: &'static str,
        file: &'static str,
        line: u32,
        meta: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self {
            name: Cow::Borrowed(name),
            module,
            file,
            line,
            meta,
            status: None,
            start: None,
            reload: false,
            #[cfg(feature = "hot")]
            fingerprint: None,
        }
    }

    /// Describes a state by name only; module, file and line are empty.
    pub fn named(name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            name: name.into(),
            ..Self::new("", "", "", 0, &[])
        }
    }

    /// Returns `self` with `meta` as its meta data.
    #[must_use]
    pub fn with_meta(mut self, meta: &'static [(&'static str, &'static str)]) -> Self {
        self.meta = meta;
        self
    }

    /// Returns `self` marked reloadable: [`lifecycle::reload()`](crate::reload()) — and
    /// SIGHUP under `#[lifecycle::main]` — reloads the state (what `#[defstate(reload)]`
    /// sets).
    ///
    /// ```
    /// use lifecycle::{State, StateInfo};
    /// let config = State::from_info(StateInfo::named("doc/reloadable").reloadable(), || Ok(1));
    /// assert!(config.info().is_reloadable());
    /// ```
    #[must_use]
    pub const fn reloadable(mut self) -> Self {
        self.reload = true;
        self
    }

    /// Returns `self` with the fingerprint function the macros generate (`hot`).
    #[cfg(feature = "hot")]
    pub(crate) const fn with_fingerprint(mut self, fingerprint: fn() -> u64) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }

    /// The fingerprint function of a macro-declared state (`hot`).
    #[cfg(feature = "hot")]
    pub(crate) fn fingerprint(&self) -> Option<fn() -> u64> {
        self.fingerprint
    }

    /// True if [`lifecycle::reload()`](crate::reload()) reloads the state.
    pub fn is_reloadable(&self) -> bool {
        self.reload
    }

    /// The state's name: `"<module path>::<STATIC>"` unless `name = "..."` was given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The module path where the state was declared.
    pub fn module(&self) -> &'static str {
        self.module
    }

    /// The file where the state was declared.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The line where the state was declared.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The value of meta key `key`, from `meta(key = "value")`.
    pub fn meta(&self, key: &str) -> Option<&'static str> {
        self.meta.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// What the state was doing when [`lifecycle::status()`](crate::status()) listed it
    /// (a failed stop shows as [`Status::StopFailed`]); `None` for an info from anywhere
    /// else (a state's own [`info`](crate::State::info) — ask the state's `status()`).
    pub fn status(&self) -> Option<Status> {
        self.status
    }

    /// Returns `self` as `status()` lists it.
    pub(crate) fn with_status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// When the state's last start began, in the entries of
    /// [`lifecycle::status()`](crate::status()) and [`graph()`](crate::graph()) (`None`
    /// elsewhere, and while that start runs).
    ///
    /// ```
    /// use lifecycle::State;
    ///
    /// let state = State::new("docs/started_at", || Ok(1));
    /// state.get();
    /// let entry = lifecycle::status().into_iter().find(|s| s.name() == "docs/started_at");
    /// assert!(entry.unwrap().started_at().is_some());
    /// ```
    pub fn started_at(&self) -> Option<SystemTime> {
        self.start.map(|(at, _)| at)
    }

    /// How long the state's last start took (including the starts of what it read), where
    /// [`started_at`](Self::started_at) is set.
    pub fn start_duration(&self) -> Option<Duration> {
        self.start.map(|(_, took)| took)
    }

    /// Returns `self` with the timing of its last start.
    pub(crate) fn with_start(mut self, start: Option<(SystemTime, Duration)>) -> Self {
        self.start = start;
        self
    }

    /// Every meta pair, in declaration order.
    pub fn meta_pairs(&self) -> &'static [(&'static str, &'static str)] {
        self.meta
    }
}

impl fmt::Debug for StateInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StateInfo")
            .field("name", &self.name)
            .field("module", &self.module)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("meta", &self.meta)
            .finish()
    }
}

impl fmt::Display for StateInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
