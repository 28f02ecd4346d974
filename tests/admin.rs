//! The admin page's handlers (`lifecycle::admin::router`) as a plain tower service, through
//! `ServiceExt::oneshot`: status codes, the token, the JSON answers and the SSE stream.

mod common;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::Router;
use futures_util::StreamExt;
use lifecycle::admin::{self, Admin};
use lifecycle::prelude::*;
use serde_json::Value;
use std::time::Duration;
use tower::ServiceExt;

#[defstate(name = "admin_test/config", meta(bucket = "base"))]
static CONFIG: u16 = 8080;

#[defstate(name = "admin_test/cache")]
static CACHE: Vec<u16> = vec![*CONFIG.get()];

#[defstate(name = "admin_test/broken")]
static BROKEN: u16 = Err::<u16, String>("disk on fire".into())?;

const TOKEN: &str = "t0ken";

fn app() -> Router {
    Router::new().nest("/lifecycle", admin::router(Admin::new().token(TOKEN)))
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

fn post(path: &str, header: Option<(&str, &str)>) -> Request<Body> {
    let mut request = Request::post(path);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    request.body(Body::empty()).unwrap()
}

async fn send(request: Request<Body>) -> (StatusCode, String, String) {
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, kind, String::from_utf8(body.to_vec()).unwrap())
}

async fn json(request: Request<Body>) -> (StatusCode, Value) {
    let (status, kind, body) = send(request).await;
    assert!(kind.starts_with("application/json"), "{kind}: {body}");
    (status, serde_json::from_str(&body).unwrap())
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect()
}

fn row<'a>(states: &'a Value, name: &str) -> &'a Value {
    states["states"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["name"] == name)
        .unwrap_or_else(|| panic!("no row {name}: {states}"))
}

#[tokio::test]
async fn the_page_is_one_self_contained_html_file() {
    let (status, kind, body) = send(get("/lifecycle")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/html"), "{kind}");
    assert!(body.contains("<table id=\"states\">"));
    assert!(body.contains("new EventSource"), "the JS is inline");
    assert!(body.contains(".status {"), "the CSS is inline");
    assert!(!body.contains("/*JS*/") && !body.contains("/*CSS*/"));
    assert!(
        !body.contains("http://") && !body.contains("https://"),
        "no CDN"
    );
}

#[test]
fn the_state_list_and_the_picture_show_every_declared_state() {
    common::serial_async(async {
        lifecycle::stop().unwrap();
        CACHE.get();
        let (status, states) = json(get("/lifecycle/api/states")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(states["live"], true);
        let config = row(&states, "admin_test/config");
        assert_eq!(config["status"], "realized");
        assert_eq!(config["meta"]["bucket"], "base");
        assert_eq!(config["controllable"], true);
        assert!(config["started_at_ms"].as_u64().is_some(), "{config}");
        assert!(config["start_ms"].as_f64().is_some(), "{config}");
        assert_eq!(config["colour"]["fill"], "#dcfce7");

        let (status, kind, svg) = send(get("/lifecycle/api/graph.svg")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kind, "image/svg+xml");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains(r#"class="node status-realized" data-state="admin_test/cache""#));
        assert!(svg.contains("start "), "labelled with the start time");
        assert!(svg.contains("0 restarts"));

        CACHE.stop().unwrap();
        let (_, _, svg) = send(get("/lifecycle/api/graph.svg")).await;
        assert!(
            svg.contains(r#"class="node status-unrealized" data-state="admin_test/cache""#),
            "{svg}"
        );
        lifecycle::stop().unwrap();
    });
}

#[test]
fn a_post_without_the_token_is_403_and_does_nothing() {
    common::serial_async(async {
        lifecycle::stop().unwrap();
        CONFIG.get();
        for header in [
            None,
            Some(("x-lifecycle-token", "wrong")),
            Some(("authorization", "Bearer wrong")),
            Some(("authorization", TOKEN)),
        ] {
            let (status, answer) =
                json(post("/lifecycle/api/stop/admin_test/config", header)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{header:?}");
            assert_eq!(answer["ok"], false);
            assert!(CONFIG.is_realized(), "nothing was stopped with {header:?}");
        }
        let (status, _) = json(post("/lifecycle/api/stop", None)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(CONFIG.is_realized());
        lifecycle::stop().unwrap();
    });
}

#[test]
fn the_actions_say_what_stopped_and_started() {
    common::serial_async(async {
        lifecycle::stop().unwrap();
        let bearer = Some(("authorization", "Bearer t0ken"));
        let header = Some(("x-lifecycle-token", TOKEN));

        let (status, answer) = json(post("/lifecycle/api/start/admin_test/cache", header)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            names(&answer["started"]),
            ["admin_test/config", "admin_test/cache"]
        );
        assert!(CACHE.is_realized());

        // A short name, as at the console; what read it stops first and comes back after.
        let (status, answer) = json(post("/lifecycle/api/restart/config", bearer)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["action"], "restart");
        assert_eq!(
            names(&answer["stopped"]),
            ["admin_test/cache", "admin_test/config"]
        );
        assert_eq!(
            names(&answer["started"]),
            ["admin_test/config", "admin_test/cache"]
        );
        assert!(answer["message"]
            .as_str()
            .unwrap()
            .starts_with("restarted admin_test/config"));

        let (status, answer) = json(post("/lifecycle/api/stop/admin_test%2Fconfig", header)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(
            names(&answer["stopped"]),
            ["admin_test/cache", "admin_test/config"]
        );
        assert!(!CONFIG.is_realized() && !CACHE.is_realized());

        CACHE.get();
        let (status, answer) = json(post("/lifecycle/api/stop", header)).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert!(names(&answer["stopped"]).contains(&"admin_test/config"));
        assert!(!CONFIG.is_realized());

        let (status, answer) = json(post("/lifecycle/api/restart/nowhere", header)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert_eq!(answer["ok"], false);
        let (status, _) = json(post("/lifecycle/api/explode/admin_test/config", header)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    });
}

/// The next SSE frame of `body`, within a bound.
async fn frame(
    body: &mut (impl futures_util::Stream<Item = Result<Bytes, axum::Error>> + Unpin),
) -> String {
    let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream goes on")
        .expect("a chunk");
    String::from_utf8(chunk.to_vec()).unwrap()
}

#[test]
fn the_event_stream_carries_a_restart() {
    common::serial_async(async {
        lifecycle::stop().unwrap();
        CONFIG.get();
        let response = app().oneshot(get("/lifecycle/api/events")).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut body = response.into_body().into_data_stream();
        assert!(frame(&mut body).await.starts_with("event: hello\n"));

        let header = Some(("x-lifecycle-token", TOKEN));
        let (status, _) = json(post("/lifecycle/api/restart/admin_test/config", header)).await;
        assert_eq!(status, StatusCode::OK);
        let mut seen = Vec::new();
        while !seen
            .iter()
            .any(|frame: &String| frame.contains(r#""event":"Started""#))
        {
            let next = frame(&mut body).await;
            assert!(next.starts_with("event: lifecycle\ndata: "), "{next}");
            if next.contains("admin_test/config") {
                seen.push(next);
            }
        }
        let kinds: Vec<&str> = ["Stopping", "Stopped", "Starting", "Started"]
            .into_iter()
            .filter(|kind| {
                seen.iter()
                    .any(|frame| frame.contains(&format!(r#""event":"{kind}""#)))
            })
            .collect();
        assert_eq!(
            kinds,
            ["Stopping", "Stopped", "Starting", "Started"],
            "{seen:#?}"
        );
        drop(body);
        lifecycle::stop().unwrap();
    });
}

#[test]
fn a_failed_start_is_a_500_and_the_row_shows_the_error() {
    common::serial_async(async {
        let header = Some(("x-lifecycle-token", TOKEN));
        let (status, answer) = json(post("/lifecycle/api/start/broken", header)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
        assert_eq!(answer["ok"], false);
        assert!(
            answer["message"].as_str().unwrap().contains("disk on fire"),
            "{answer}"
        );
        assert!(names(&answer["started"]).is_empty());
        assert!(!BROKEN.is_realized());

        let (_, states) = json(get("/lifecycle/api/states")).await;
        let broken = row(&states, "admin_test/broken");
        assert_eq!(broken["status"], "unrealized");
        assert!(
            broken["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("disk on fire")),
            "{broken}"
        );
        lifecycle::stop().unwrap();
    });
}
