//! **A live admin page for a running program: its states as a picture, a table and buttons.**
//! (Feature `admin`.)
//!
//! [`router`] returns an axum [`Router`] (usable as a plain tower service) that the program
//! mounts in its own server, say at `/lifecycle`:
//!
//! ```
//! use lifecycle::admin::{self, Admin};
//!
//! let admin = Admin::new().token("s3cret"); // or keep the generated one: admin.token_value()
//! let app: axum::Router = axum::Router::new().nest("/lifecycle", admin::router(admin));
//! # drop(app);
//! ```
//!
//! Open `http://HOST:PORT/lifecycle#token=TOKEN` in a browser (the page keeps the token of
//! the address's `#token=` in the tab and sends it with each button; it never goes into a
//! request's URL).
//!
//! # What it serves
//!
//! | request | answer |
//! |---|---|
//! | `GET /` | one self-contained HTML page (its few lines of CSS and JS ship in the crate; no CDN) |
//! | `GET /api/states` | JSON: the [health report](crate::health()) and one row per state — name, status, meta, started at, start duration, uptime, restarts, last error |
//! | `GET /api/graph.svg` | the dependency graph as SVG, nodes coloured by status and labelled with start duration, uptime and restart count |
//! | `GET /api/events` | Server-Sent Events, one per [`watch`](crate::watch) event: `{"state": .., "event": ..}` |
//! | `POST /api/restart/{name}`, `/api/stop/{name}`, `/api/start/{name}`, `/api/stop` | runs the console's `restart`, `stop`, `start` or `stop` (all) and answers JSON with what stopped and started |
//!
//! # Safety
//!
//! The page changes the program, so:
//!
//! - It is off unless the program mounts [`router`]; it binds to whatever the program's
//!   server binds to (the examples: `127.0.0.1` unless `$HOST` says otherwise).
//! - Every POST needs the token, as `Authorization: Bearer TOKEN` or `x-lifecycle-token:
//!   TOKEN`; without it, or with another, the answer is `403` and nothing is done. The token
//!   is the one the program gives ([`Admin::token`]) or one generated from the operating
//!   system's randomness, logged at INFO by [`router`] and readable with
//!   [`Admin::token_value`] for the program to print. The GETs are read-only.
//!
//! # Details
//!
//! - The actions are the [console](crate::console)'s, with its name lookup (a full name or
//!   a unique last segment) and its report of what stopped and started, taken from the
//!   runtime's events. Every declared static state can be started, stopped and restarted; a
//!   part that is not a `#[defstate]` (a [`Server`](crate::server::Server)) is registered
//!   with [`Admin::state`] or [`Admin::main`], as with the console. One action runs at a
//!   time, on a task of its own, so a restart that stops the very server the page came
//!   through still finishes.
//! - A POST answers `200` with `{"action", "name", "ok", "message", "stopped", "started"}`,
//!   `404` (same shape) for a name that is no state it can act on, `500` when a start or
//!   stop failed, and `403` without the token.
//! - The live updates watch the runtime only while a page is open: the first client of
//!   `/api/events` adds the watch, the last one to go removes it.
//! - The picture is laid out by [`layout-rs`](https://crates.io/crates/layout-rs): it lays
//!   out a graph (or parses DOT) and writes SVG in pure Rust, with no dependencies and no
//!   Graphviz binary on the machine. The Graphviz bindings need that binary or a C
//!   library, and the JavaScript layout engines would break the page's no-CDN rule or
//!   weigh far more than the page.
//!
//! # Dependencies
//!
//! axum (the router, JSON and SSE; no server of its own), layout-rs (the picture), serde
//! and serde_json (the JSON), futures-util (the event stream) and the console (the actions).
//!
//! The module owns the router and its shared state (`mod.rs`), the page (`page`), the table
//! (`view`), the picture (`picture`), the live updates (`live`), the buttons (`actions`,
//! `declared`) and the token (`token`). Imports the runtime (through the crate root) and `console`
//! (its `Console` and `Part`: the buttons are the console's actions); nothing imports it back
//! (`console` and `server` must not import `admin`).

mod actions;
mod declared;
mod live;
mod page;
mod picture;
mod token;
mod view;

use crate::console::{Console, Part};
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The admin page's settings: its token and the parts it acts on beyond the declared states.
pub struct Admin {
    console: Console,
    token: String,
    generated: bool,
}

impl Default for Admin {
    fn default() -> Self {
        Admin::new()
    }
}

impl Admin {
    /// The page for every declared static state, with a freshly generated token.
    pub fn new() -> Admin {
        Admin {
            console: Console::new(),
            token: token::generate(),
            generated: true,
        }
    }

    /// Uses `token` for the POSTs instead of the generated one.
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Admin {
        self.token = token.into();
        self.generated = false;
        self
    }

    /// The token the POSTs need, given or generated: for the program to print.
    pub fn token_value(&self) -> &str {
        &self.token
    }

    /// Registers a part the page can start, stop and restart by name (see
    /// [`Console::state`]); declared static states need no registration.
    #[must_use]
    pub fn state(mut self, part: &'static impl Part) -> Admin {
        self.console = self.console.state(part);
        self
    }

    /// Registers the main part (see [`Console::main`]).
    #[must_use]
    pub fn main(mut self, part: &'static impl Part) -> Admin {
        self.console = self.console.main(part);
        self
    }
}

/// What the handlers share.
pub(crate) struct Shared {
    console: Console,
    token: String,
    /// One action at a time: the console's report of what changed is per action.
    turn: tokio::sync::Mutex<()>,
    live: live::Hub,
}

/// The admin page's routes, to mount in the program's server (`Router::nest("/lifecycle",
/// router(admin))`). A generated token is logged at INFO.
pub fn router(admin: Admin) -> Router {
    if admin.generated {
        tracing::info!(
            "lifecycle admin page: POSTs need the token {} (x-lifecycle-token or Authorization: Bearer)",
            admin.token
        );
    }
    let mut console = admin.console;
    for part in declared::parts() {
        if !console.has_part(part.name()) {
            console = console.state(part);
        }
    }
    let shared = Arc::new(Shared {
        console,
        token: admin.token,
        turn: tokio::sync::Mutex::new(()),
        live: live::Hub::new(),
    });
    Router::new()
        .route("/", get(page::page))
        .route("/api/states", get(view::states))
        .route("/api/graph.svg", get(picture::graph_svg))
        .route("/api/events", get(live::events))
        .route("/api/stop", post(actions::stop_all))
        .route("/api/{action}/{*name}", post(actions::act))
        .with_state(shared)
}
