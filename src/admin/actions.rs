//! The buttons (`POST /api/{restart,stop,start}/{name}`, `POST /api/stop`): the console's
//! actions behind the token, answered with what stopped and started.
//!
//! Imports `console` (its engine's report `Outcome` and its `events`) and the page's `token` check;
//! nothing imports it back (`console` and `server` must not import `admin`).

use super::{token, Shared};
use crate::console::engine::Outcome;
use crate::console::events;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Serialize;
use std::sync::Arc;

/// The answer to a POST.
#[derive(Debug, Serialize)]
pub(super) struct Answer {
    action: String,
    name: Option<String>,
    ok: bool,
    /// What the console would say.
    message: String,
    /// The states stopped, in the order they stopped.
    stopped: Vec<String>,
    /// The states started, in the order they started.
    started: Vec<String>,
}

type Reply = (StatusCode, Json<Answer>);

/// `POST /api/{action}/{name}`.
pub(super) async fn act(
    State(shared): State<Arc<Shared>>,
    Path((action, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Reply {
    run(shared, &headers, action, Some(name)).await
}

/// `POST /api/stop`: every state, newest first.
pub(super) async fn stop_all(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Reply {
    run(shared, &headers, "stop".to_owned(), None).await
}

async fn run(
    shared: Arc<Shared>,
    headers: &HeaderMap,
    action: String,
    name: Option<String>,
) -> Reply {
    let refuse = |status: StatusCode, message: String| {
        let answer = Answer {
            action: action.clone(),
            name: name.clone(),
            ok: false,
            message,
            stopped: Vec::new(),
            started: Vec::new(),
        };
        (status, Json(answer))
    };
    if !token::allows(headers, &shared.token) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this needs the admin token (x-lifecycle-token or Authorization: Bearer)".to_owned(),
        );
    }
    if !matches!(action.as_str(), "restart" | "stop" | "start") {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("unknown action `{action}`: restart, stop or start"),
        );
    }
    // On a task of its own: a restart that stops the server this request came through drops
    // the request, but must not stop halfway.
    let task = tokio::spawn({
        let (shared, action, name) = (Arc::clone(&shared), action.clone(), name.clone());
        async move {
            let _turn = shared.turn.lock().await;
            let name = name.as_deref();
            match action.as_str() {
                "restart" => shared.console.restart(name).await,
                "start" => shared.console.start(name).await,
                _ => shared.console.stop(name).await,
            }
        }
    });
    let outcome: Outcome = match task.await {
        Ok(outcome) => outcome,
        Err(error) => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the action did not finish: {error}"),
            )
        }
    };
    let (stopped, started) = events::split(&outcome.changes);
    let status = match (outcome.refused, outcome.failed) {
        (true, _) => StatusCode::NOT_FOUND,
        (false, true) => StatusCode::INTERNAL_SERVER_ERROR,
        (false, false) => StatusCode::OK,
    };
    let answer = Answer {
        action,
        name,
        ok: !outcome.failed,
        message: outcome.text,
        stopped,
        started,
    };
    (status, Json(answer))
}
