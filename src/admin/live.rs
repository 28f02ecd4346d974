//! Live updates (`GET /api/events`): the runtime's watch events as Server-Sent Events. The
//! watch is there only while a page listens: the first client adds it, the last one to go
//! removes it.
//!
//! Imports only the runtime's watch API (`watch`, `unwatch`, through the crate root) and the page's
//! `Shared`; nothing imports it back (`console` and `server` must not import `admin`).

use super::Shared;
use axum::extract::State;
use axum::response::sse::{Event as SseEvent, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::broadcast;

/// How many events a slow client may fall behind before it is told to reload everything.
const BACKLOG: usize = 256;

/// The clients of one router and its one watch.
pub(super) struct Hub {
    key: String,
    sender: broadcast::Sender<String>,
    clients: Arc<Mutex<usize>>,
}

/// One client; dropping it (the connection closed) may remove the watch.
pub(super) struct Client {
    key: String,
    clients: Arc<Mutex<usize>>,
    receiver: broadcast::Receiver<String>,
}

impl Hub {
    pub(super) fn new() -> Hub {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Hub {
            key: format!("lifecycle::admin#{}", NEXT.fetch_add(1, Ordering::Relaxed)),
            sender: broadcast::channel(BACKLOG).0,
            clients: Arc::default(),
        }
    }

    /// A new client; the first one adds the watch.
    pub(super) fn join(&self) -> Client {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if *clients == 0 {
            let sender = self.sender.clone();
            crate::watch(
                self.key.clone(),
                move |event: &crate::Event, state: &crate::StateInfo| {
                    // `Debug` names every event, those added after this page was written too:
                    // `Started`, `StartFailed("...")`.
                    let debug = format!("{event:?}");
                    let kind = debug.split(['(', ' ', '{']).next().unwrap_or_default();
                    let message = serde_json::json!({
                        "state": state.name(),
                        "event": kind,
                        "detail": debug,
                    });
                    // No receiver (the last client is leaving) is not an error.
                    let _ = sender.send(message.to_string());
                },
            );
        }
        *clients += 1;
        Client {
            key: self.key.clone(),
            clients: Arc::clone(&self.clients),
            receiver: self.sender.subscribe(),
        }
    }

    /// How many clients listen now.
    #[cfg(test)]
    pub(super) fn clients(&self) -> usize {
        *self.clients.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        *clients -= 1;
        if *clients == 0 {
            crate::unwatch(&self.key);
        }
    }
}

impl Client {
    /// The events, beginning with `hello` (so a page knows it listens), as SSE.
    fn into_stream(self) -> impl Stream<Item = Result<SseEvent, Infallible>> {
        let hello = SseEvent::default().event("hello").data("{}");
        stream::once(async move { Ok(hello) }).chain(stream::unfold(self, |mut client| async {
            let event = match client.receiver.recv().await {
                Ok(message) => SseEvent::default().event("lifecycle").data(message),
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    SseEvent::default().event("lagged").data("{}")
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((Ok(event), client))
        }))
    }
}

/// `GET /api/events`.
pub(super) async fn events(
    State(shared): State<Arc<Shared>>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    Sse::new(shared.live.join().into_stream())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_client_to_go_removes_the_watch() {
        let hub = Hub::new();
        let first = hub.join();
        let second = hub.join();
        assert_eq!(hub.clients(), 2);
        drop(first);
        assert_eq!(hub.clients(), 1);
        drop(second);
        assert_eq!(hub.clients(), 0);
        // Removed already: there is nothing left to remove.
        assert!(!crate::unwatch(&hub.key));
        let _again = hub.join();
        assert!(crate::unwatch(&hub.key), "the next client watches again");
    }
}
