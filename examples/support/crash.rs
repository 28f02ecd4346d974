//! A way to make the server's task die, for a demo of supervision and its test: with
//! `LIFECYCLE_CRASH_ROUTE=1` in the environment, `POST /crash` ends the serve task as a
//! crash would (it returns an error, no stop asked for it), so the supervisor restarts the
//! server. Without the variable the route does not exist (404).

use axum::routing::post;
use axum::Router;
use std::future::{Future, IntoFuture};
use std::io;
use std::sync::Arc;
use tokio::sync::Notify;

/// The variable that enables `POST /crash`.
pub const ENV: &str = "LIFECYCLE_CRASH_ROUTE";

/// `router` with `POST /crash` (if enabled), and `serve` made to end with an error when it
/// is asked: the future to hand the server.
pub fn crashable<S>(
    router: Router,
    serve: impl FnOnce(Router) -> S,
) -> impl Future<Output = io::Result<()>> + Send + 'static
where
    S: IntoFuture<Output = io::Result<()>>,
    S::IntoFuture: Send + 'static,
{
    let crash = Arc::new(Notify::new());
    let enabled = std::env::var_os(ENV).is_some_and(|value| value == "1");
    let router = if enabled {
        let asked = Arc::clone(&crash);
        router.route(
            "/crash",
            post(move || async move {
                // After the answer is written: the task ends once this returns.
                asked.notify_one();
                "crashing the server task\n"
            }),
        )
    } else {
        router
    };
    let serving = serve(router).into_future();
    let crashed = async move {
        crash.notified().await;
        // The server keeps running a moment, so the answer to `POST /crash` goes out.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    async move {
        tokio::select! {
            served = serving => served,
            () = crashed => Err(io::Error::other("crashed on POST /crash")),
        }
    }
}
