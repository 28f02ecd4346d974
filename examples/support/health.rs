//! `/healthz` and `/readyz` from `lifecycle::status()`, for an orchestrator that sends SIGTERM
//! and watches readiness.
//!
//! * `/healthz` (liveness): 200 while the process serves, with the active states in
//!   realization order.
//! * `/readyz` (readiness): 200 when every required state is active, else 503 naming the
//!   missing ones.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// The names of the active states, oldest first.
pub fn active_states() -> Vec<String> {
    lifecycle::status()
        .iter()
        .map(|state| state.name().to_owned())
        .collect()
}

pub fn healthz() -> Response {
    let body = format!(
        "{{\"status\":\"ok\",\"states\":{}}}\n",
        json_strings(&active_states())
    );
    json(StatusCode::OK, body)
}

pub fn readyz(required: &[&str]) -> Response {
    let active = active_states();
    let missing: Vec<String> = required
        .iter()
        .filter(|name| !active.iter().any(|a| a == *name))
        .map(|name| (*name).to_owned())
        .collect();
    let ready = missing.is_empty();
    let body = format!(
        "{{\"ready\":{ready},\"missing\":{}}}\n",
        json_strings(&missing)
    );
    let status = if ready {
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
