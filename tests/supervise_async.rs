//! Supervision of async states through the public API: a server task that dies and comes
//! back on the runtime its state started on (what the start spawns survives the restart),
//! readiness false while it restarts, and a check on an async state.

mod common;

use common::countdown::fail_while_left;
use common::eventually::eventually;
use lifecycle::{AsyncState, Status, Supervise};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;

fn fast() -> Supervise {
    Supervise::new()
        .backoff(Duration::from_millis(20), Duration::from_millis(50))
        .interval(Duration::from_millis(10))
}

/// A server whose task answers "hello" on each connection and ends (dies) when `kill` is
/// notified: the task reports its end through the state's fail handle.
struct Server {
    port: u16,
    kill: Arc<Notify>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_task_that_dies_comes_back_on_its_runtime() {
    let me: Arc<std::sync::OnceLock<AsyncState<Server>>> = Arc::default();
    let slot = Arc::clone(&me);
    let starts = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&starts);
    let server = AsyncState::new("sva/server", move || {
        let slot = Arc::clone(&slot);
        let count = Arc::clone(&count);
        async move {
            count.fetch_add(1, Ordering::SeqCst);
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let port = listener.local_addr()?.port();
            // The handle of this realization, for the task (this panics outside a runtime).
            let fail = slot
                .get()
                .expect("set before the first start")
                .fail_handle();
            let kill = Arc::new(Notify::new());
            let killed = Arc::clone(&kill);
            tokio::spawn(async move {
                loop {
                    let socket = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok((socket, _)) => socket,
                            Err(_) => break,
                        },
                        () = killed.notified() => break,
                    };
                    if socket.writable().await.is_ok() {
                        let _ = socket.try_write(b"hello");
                    }
                }
                fail.fail("the server task ended");
            });
            Ok::<_, std::io::Error>(Server { port, kill })
        }
    })
    .supervise(fast());
    let _ = me.set(server);
    let server = me.get().unwrap();

    fn ask(port: u16) -> Option<String> {
        let mut socket = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
        socket.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut answer = String::new();
        socket.read_to_string(&mut answer).ok()?;
        Some(answer)
    }

    let first = server.get().await.port;
    assert_eq!(ask(first).as_deref(), Some("hello"));
    server.get().await.kill.notify_one();
    let health = || lifecycle::health_of(&["sva/server"]);
    eventually("the restart", || {
        starts.load(Ordering::SeqCst) == 2 && health().ready
    })
    .await;
    assert_eq!(server.status(), Status::Realized);
    let second = server.get().await.port;
    assert_ne!(first, second, "a new listener");
    assert_eq!(
        ask(second).as_deref(),
        Some("hello"),
        "the task the restart spawned runs"
    );
    // The report lists every state (the other test's too): find this one by name.
    let report = health();
    let state = report
        .states
        .iter()
        .find(|s| s.name == "sva/server")
        .unwrap();
    assert_eq!(state.restarts, 1, "{report}");
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn readiness_is_false_while_the_state_restarts() {
    let gate = Arc::new(AtomicUsize::new(0));
    let open = Arc::clone(&gate);
    let state = AsyncState::new("svb/slow", move || {
        let open = Arc::clone(&open);
        async move {
            // The restart waits until the test opens the gate.
            while open.load(Ordering::SeqCst) == 1 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Ok::<_, std::io::Error>(1)
        }
    })
    .supervise(fast())
    .with_check(|_: &i32| Ok::<(), String>(()));
    state.get().await;
    assert!(lifecycle::health_of(&["svb/slow"]).ready);
    gate.store(1, Ordering::SeqCst);
    assert!(state.fail("lost"));
    assert!(!lifecycle::health_of(&["svb/slow"]).ready);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !lifecycle::health_of(&["svb/slow"]).ready,
        "still restarting"
    );
    gate.store(0, Ordering::SeqCst);
    eventually("back", || lifecycle::health_of(&["svb/slow"]).ready).await;
    assert_eq!(state.status(), Status::Realized);
    state.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_check_runs_on_the_runtime_and_fails_twice_then_passes() {
    let failing = Arc::new(AtomicUsize::new(2));
    let left = Arc::clone(&failing);
    let state = AsyncState::new("svd/link", || async { Ok::<_, std::io::Error>(5_u32) })
        .supervise(fast())
        .with_async_check(move |link: lifecycle::AsyncRef<u32>| {
            let left = Arc::clone(&left);
            async move {
                // A tokio timer: this runs on the runtime the state started on.
                tokio::time::sleep(Duration::from_millis(1)).await;
                fail_while_left(&left, |n| format!("link {} lost ({n} left)", *link))
            }
        });
    assert_eq!(*state.get().await, 5);
    let this = |report: &lifecycle::Health| {
        let state = report.states.iter().find(|s| s.name == "svd/link").unwrap();
        (state.restarts, state.last_error.clone())
    };
    eventually("two restarts", || {
        this(&lifecycle::health_of(&["svd/link"])).0 == 2
    })
    .await;
    eventually("ready", || lifecycle::health_of(&["svd/link"]).ready).await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    let (restarts, last_error) = this(&lifecycle::health_of(&["svd/link"]));
    assert_eq!(restarts, 2, "none after the check passes");
    assert_eq!(
        last_error.as_deref(),
        Some("its check failed: link 5 lost (1 left)")
    );
    assert_eq!(failing.load(Ordering::SeqCst), 0);
    state.stop().await.unwrap();
}
