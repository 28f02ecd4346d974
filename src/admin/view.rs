//! What the page shows of the states: one row per state (health, meta, start time and
//! duration) and the health report's head, as JSON (`GET /api/states`).
//!
//! Reads the runtime's public reports only (`health`, `status`, `declared`,
//! `startup_report`); the row's status and health fields come from `Health`'s own JSON, so a
//! status added to the runtime shows up here by its name.
//!
//! Imports the page's `Shared` and the runtime (through the crate root); nothing imports it back
//! (`console` and `server` must not import `admin`).

use super::Shared;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// One state as the table and the picture show it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Row {
    pub(super) name: String,
    /// The status as the health report writes it: `realized`, `stop_failed`, ...
    pub(super) status: String,
    pub(super) meta: BTreeMap<&'static str, &'static str>,
    /// When its last start began, in milliseconds since the Unix epoch.
    pub(super) started_at_ms: Option<u64>,
    /// How long its last start took, in milliseconds.
    pub(super) start_ms: Option<f64>,
    /// How long it has been realized, in seconds.
    pub(super) uptime_s: Option<f64>,
    pub(super) restarts: u64,
    pub(super) last_error: Option<String>,
    /// Readiness counts it.
    pub(super) required: bool,
    /// The page can start and restart it (a declared state or a registered part).
    pub(super) controllable: bool,
    /// Its status's colours, as in the picture.
    pub(super) colour: Swatch,
}

/// The statuses the legend explains, in the order a state goes through them.
const LEGEND: [&str; 6] = [
    "unrealized",
    "starting",
    "realized",
    "stopping",
    "stop_failed",
    "gave_up",
];

/// The fill and border colours of a status, by the name the health report gives it; a
/// status this page does not know yet is drawn white with a grey border.
pub(super) fn colours(status: &str) -> (u32, u32) {
    match status {
        "unrealized" => (0xf1f5f9, 0x94a3b8),
        "starting" => (0xfef3c7, 0xd97706),
        "realized" => (0xdcfce7, 0x16a34a),
        "stopping" => (0xffedd5, 0xea580c),
        "stop_failed" => (0xfee2e2, 0xdc2626),
        "gave_up" => (0xede9fe, 0x7c3aed),
        _ => (0xffffff, 0x64748b),
    }
}

fn css(colour: u32) -> String {
    format!("#{colour:06x}")
}

/// A status and its colours, for the page's legend and badges.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Swatch {
    status: String,
    fill: String,
    line: String,
}

fn swatch(status: &str) -> Swatch {
    let (fill, line) = colours(status);
    Swatch {
        status: status.to_owned(),
        fill: css(fill),
        line: css(line),
    }
}

/// The head of the page: the health report without its per-state list, and the start-up
/// report as the console's `blame` prints it.
#[derive(Debug, Serialize)]
pub(super) struct Overview {
    live: bool,
    ready: bool,
    not_ready: Vec<String>,
    startup: String,
    legend: Vec<Swatch>,
    states: Vec<Row>,
}

/// Every state the health report knows (tracked ones first, in realization order, then the
/// declared ones that are not tracked).
pub(super) fn rows(shared: &Shared) -> (crate::Health, Vec<Row>) {
    let health = crate::health();
    // The graph keeps the last start of a stopped state; `status()` (later, so it wins) the
    // current one of an active state.
    let tracked: HashMap<String, crate::StateInfo> = crate::graph()
        .nodes
        .into_iter()
        .chain(crate::status())
        .map(|info| (info.name().to_owned(), info))
        .collect();
    let declared: HashMap<&str, &'static crate::StateInfo> = crate::declared()
        .into_iter()
        .map(|state| (state.name(), state.info()))
        .collect();
    let rows = health
        .states
        .iter()
        .map(|state| {
            let json = serde_json::to_value(state).unwrap_or(Value::Null);
            let info = tracked.get(&state.name);
            let meta = info
                .map(crate::StateInfo::meta_pairs)
                .or_else(|| declared.get(state.name.as_str()).map(|d| d.meta_pairs()))
                .unwrap_or_default();
            let status = json["status"].as_str().unwrap_or("unknown").to_owned();
            Row {
                name: state.name.clone(),
                colour: swatch(&status),
                status,
                meta: meta.iter().copied().collect(),
                started_at_ms: info.and_then(|i| i.started_at()).map(epoch_ms),
                start_ms: info
                    .and_then(|i| i.start_duration())
                    .map(|took| took.as_secs_f64() * 1000.0),
                uptime_s: json["uptime"].as_f64(),
                restarts: json["restarts"].as_u64().unwrap_or(0),
                last_error: json["last_error"].as_str().map(str::to_owned),
                required: json["required"].as_bool().unwrap_or(false),
                controllable: shared.console.has_part(&state.name),
            }
        })
        .collect();
    (health, rows)
}

fn epoch_ms(at: SystemTime) -> u64 {
    let since = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// `GET /api/states`.
pub(super) async fn states(State(shared): State<Arc<Shared>>) -> Json<Overview> {
    let (health, states) = rows(&shared);
    Json(Overview {
        live: health.live,
        ready: health.ready,
        not_ready: health.not_ready,
        startup: crate::startup_report().to_string(),
        legend: LEGEND.iter().map(|status| swatch(status)).collect(),
        states,
    })
}
