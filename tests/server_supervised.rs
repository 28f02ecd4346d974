//! A supervised `lifecycle::server::Server` through the public API: its serve task ends
//! without a stop, the server is not ready while it restarts, and it comes back on the
//! same port with the restart counted; a user's stop does not restart it.

mod common;

use common::eventually::eventually;
use lifecycle::server::Server;
use lifecycle::Supervise;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

static SERVER: Server = Server::new("svs/server").supervise(
    Supervise::new()
        .backoff(Duration::from_millis(200), Duration::from_millis(200))
        .max_restarts(3),
);

fn ready() -> bool {
    lifecycle::health_of(&["svs/server"]).ready
}

fn answers(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_task_ends_restarts_on_its_port_and_is_not_ready_meanwhile() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kill = Arc::new(Notify::new());
    let killer = Arc::clone(&kill);
    SERVER
        .start(port, move |port, shutdown| {
            let kill = Arc::clone(&killer);
            async move {
                let listener = TcpListener::bind(("127.0.0.1", port)).await?;
                Ok(async move {
                    let accept = async {
                        loop {
                            drop(listener.accept().await?);
                        }
                    };
                    tokio::select! {
                        () = shutdown => Ok(()),
                        () = kill.notified() => Err(std::io::Error::other("killed")),
                        served = accept => served,
                    }
                })
            }
        })
        .await
        .unwrap();
    assert!(ready() && answers(port));

    kill.notify_one();
    eventually("not ready while it restarts", || !ready()).await;
    assert_eq!(
        SERVER.port(),
        Some(port),
        "still realized during the backoff"
    );
    eventually("back and ready", ready).await;
    assert_eq!(SERVER.port(), Some(port));
    assert!(
        answers(port),
        "the restarted server listens on the same port"
    );
    let health = lifecycle::health_of(&["svs/server"]);
    assert_eq!(health.states[0].restarts, 1, "{health}");
    assert_eq!(
        health.states[0].last_error.as_deref(),
        Some(format!("the server on port {port} failed: killed").as_str())
    );

    // A user's stop ends the task too: no failure, no restart.
    assert_eq!(
        SERVER.stop().await.unwrap().to_string(),
        format!("server on port {port} stopped")
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(SERVER.port(), None, "a stop is not a failure");
    assert!(!answers(port));
    assert!(!ready());
}
