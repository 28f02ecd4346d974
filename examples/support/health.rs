//! `/healthz` and `/readyz` served from `lifecycle::health()`, for an orchestrator that sends
//! SIGTERM and watches readiness. The example only turns the library's report into HTTP.
//!
//! * `/healthz` (liveness): 200 while the process is live (503 once it is not), with the
//!   active states in realization order.
//! * `/readyz` (readiness): 200 when every required state is realized, else 503 naming the
//!   missing ones — so it is 503 while the server is stopped or restarting.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use lifecycle::Status;

/// The two routes, to merge into an app's router: `/readyz` is ready when every state named in
/// `required` is.
pub fn routes(required: &'static [&'static str]) -> Router {
    Router::new()
        .route("/healthz", get(|| async { healthz() }))
        .route("/readyz", get(move || async move { readyz(required) }))
}

pub fn healthz() -> Response {
    let health = lifecycle::health();
    let active: Vec<String> = health
        .states
        .into_iter()
        .filter(|state| state.status != Status::Unrealized)
        .map(|state| state.name)
        .collect();
    let (status, word) = if health.live {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "down")
    };
    let body = format!(
        "{{\"status\":\"{word}\",\"states\":{}}}\n",
        json_strings(&active)
    );
    json(status, body)
}

pub fn readyz(required: &[&str]) -> Response {
    let health = lifecycle::health_of(required);
    let body = format!(
        "{{\"ready\":{},\"missing\":{}}}\n",
        health.ready,
        json_strings(&health.not_ready)
    );
    let status = if health.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json(status, body)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `["a","b"]`, with JSON string escaping.
pub fn json_strings(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| json_string(item)).collect();
    format!("[{}]", quoted.join(","))
}

pub fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
