//! `lifecycle::console` and `lifecycle::server` through their public API: names, what a
//! command says it stopped and started, the program's own commands, the input loop, and the
//! server's start, graceful stop and restart on real sockets.
//!
//! The states are global: the tests take turns (`TURN`) and stop everything at the end.

use lifecycle::console::{Console, Ended};
use lifecycle::prelude::*;
use lifecycle::server::{Server, Shutdown, Started, Stopped};
use lifecycle::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::net::TcpListener;

mod common;

use common::runtime;
use common::serial as turn;
use common::status_names as active;

mod chain {
    use super::*;

    #[defstate(name = "chain/config")]
    pub static CONFIG: u32 = 7;
    #[defstate(name = "chain/store")]
    pub static STORE: u32 = *CONFIG.get() * 2;
    #[defstate(name = "chain/server")]
    pub static SERVER: u32 = *STORE.get() + 1;
    /// Not registered with the console.
    #[defstate(name = "chain/extra")]
    pub static EXTRA: u32 = 0;

    pub fn console() -> Console {
        Console::new().state(&CONFIG).state(&STORE).main(&SERVER)
    }
}

#[test]
fn start_says_what_started_and_what_already_ran() {
    let _turn = turn();
    let console = chain::console();
    assert_eq!(
        console.execute_blocking("start").text(),
        "started chain/config, chain/store, chain/server"
    );
    assert_eq!(
        console.execute_blocking("start").text(),
        "already running: chain/server"
    );
    lifecycle::stop().unwrap();
}

#[test]
fn stop_takes_a_short_name_and_stops_what_depends_on_it_first() {
    let _turn = turn();
    let console = chain::console();
    console.execute_blocking("start");
    assert_eq!(
        console.execute_blocking("stop store").text(),
        "stopped chain/server, chain/store"
    );
    assert_eq!(active(), ["chain/config"]);
    assert_eq!(
        console.execute_blocking("stop store").text(),
        "chain/store is not running"
    );
    // Any active state, registered or not.
    chain::EXTRA.get();
    assert_eq!(
        console.execute_blocking("stop extra").text(),
        "stopped chain/extra"
    );
    assert_eq!(
        console.execute_blocking("stop nothing").text(),
        "no active state named `nothing`"
    );
    lifecycle::stop().unwrap();
}

#[test]
fn restart_brings_back_what_was_running_and_says_so() {
    let _turn = turn();
    let console = chain::console();
    console.execute_blocking("start");
    assert_eq!(
        console.execute_blocking("restart config").text(),
        "restarted chain/config and chain/store, chain/server"
    );
    assert_eq!(active(), ["chain/config", "chain/store", "chain/server"]);
    // A bare restart is the main part's, alone.
    assert_eq!(
        console.execute_blocking("restart").text(),
        "restarted chain/server"
    );
    // Only what was running comes back: with the server stopped, restarting the store
    // leaves it stopped.
    console.execute_blocking("stop server");
    assert_eq!(
        console.execute_blocking("restart chain/store").text(),
        "restarted chain/store"
    );
    assert!(!chain::SERVER.is_realized());
    lifecycle::stop().unwrap();
}

#[test]
fn names_that_are_unknown_ambiguous_or_unregistered_are_errors() {
    let _turn = turn();
    #[defstate(name = "left/config")]
    static LEFT: u8 = 1;
    #[defstate(name = "right/config")]
    static RIGHT: u8 = 2;
    let console = Console::new().state(&LEFT).state(&RIGHT);
    assert_eq!(
        console.execute_blocking("restart config").text(),
        "error: `config` names several states: left/config, right/config; type one in full"
    );
    assert_eq!(
        console.execute_blocking("restart nothing/here").text(),
        "error: no state named `nothing/here` to restart"
    );
    chain::EXTRA.get();
    assert!(console
        .execute_blocking("restart extra")
        .text()
        .starts_with("error: chain/extra is not registered with the console"));
    assert_eq!(
        console.execute_blocking("restart").text(),
        "error: `restart` needs a name: no main part is registered (`Console::main`)"
    );
    assert_eq!(
        console.execute_blocking("restart left/config").text(),
        "started left/config"
    );
    lifecycle::stop().unwrap();
}

#[test]
fn status_graph_help_and_mistakes() {
    let _turn = turn();
    let console = chain::console();
    assert_eq!(
        console.execute_blocking("status").text(),
        "no active states"
    );
    console.execute_blocking("start");
    assert_eq!(
        console.execute_blocking("status").text(),
        "active states, oldest first:\n  1. chain/config\n  2. chain/store\n  3. chain/server"
    );
    let dot = console.execute_blocking("graph");
    assert!(
        dot.text().contains(r#""chain/store" -> "chain/config";"#),
        "{dot:?}"
    );
    let unknown = console.execute_blocking("bogus words");
    assert!(unknown
        .text()
        .starts_with("unknown command `bogus`\ncommands:"));
    assert!(!unknown.is_quit());
    assert_eq!(console.execute_blocking("   ").text(), "");
    lifecycle::stop().unwrap();
}

#[test]
fn own_commands_are_listed_and_may_replace_a_built_in() {
    let _turn = turn();
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let console = Console::new()
        .command("add", "add the numbers", |args| {
            let numbers: Result<Vec<i64>, _> = args.iter().map(|arg| arg.parse()).collect();
            let numbers = numbers.map_err(Error::other)?;
            Ok(numbers.iter().sum::<i64>().to_string())
        })
        .command("status", "the program's own status", |_| {
            CALLS.fetch_add(1, Ordering::Relaxed);
            Ok("all good".to_owned())
        });
    assert_eq!(console.execute_blocking("add 1 2 3").text(), "6");
    assert_eq!(
        console.execute_blocking("add 1 x").text(),
        "error: invalid digit found in string"
    );
    assert_eq!(console.execute_blocking("status").text(), "all good");
    assert_eq!(CALLS.load(Ordering::Relaxed), 1);
    let help = console.execute_blocking("help");
    assert!(
        help.text().contains("\n  add             add the numbers"),
        "{help:?}"
    );
    assert!(help.text().contains("restart [name]"));
}

#[test]
fn the_input_loop_answers_on_its_output_until_quit() {
    let _turn = turn();
    chain::SERVER.get();
    let mut output = Vec::new();
    let input = "status\n\nquit\nstart\n".as_bytes();
    assert_eq!(chain::console().run_with(input, &mut output), Ended::Quit);
    let output = String::from_utf8(output).unwrap();
    assert_eq!(
        output,
        "console: type `help` for commands\n\
         active states, oldest first:\n  1. chain/config\n  2. chain/store\n  3. chain/server\n\
         stopped chain/server, chain/store, chain/config\n"
    );
    assert!(active().is_empty(), "quit stopped everything");

    let mut output = Vec::new();
    let ended = Console::new().run_with("help\n".as_bytes(), &mut output);
    assert_eq!(ended, Ended::EndOfInput);
}

// ---------------------------------------------------------------------------------------------
// The server helper, on real sockets.
// ---------------------------------------------------------------------------------------------

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .unwrap()
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

static BINDS: AtomicUsize = AtomicUsize::new(0);

/// Accepts (and closes) connections until `shutdown`.
async fn serve(listener: TcpListener, shutdown: Shutdown) -> std::io::Result<()> {
    let accept = async {
        loop {
            let (socket, _) = listener.accept().await?;
            drop(socket);
        }
    };
    tokio::select! {
        () = shutdown => Ok(()),
        result = accept => result,
    }
}

async fn start(server: &'static Server, port: u16) -> Result<Started, Error> {
    server
        .start(port, |port, shutdown| async move {
            let listener = TcpListener::bind(("127.0.0.1", port)).await?;
            BINDS.fetch_add(1, Ordering::SeqCst);
            Ok(serve(listener, shutdown))
        })
        .await
}

#[test]
fn a_server_starts_once_stops_with_its_port_free_and_restarts_on_it() {
    let _turn = turn();
    static SERVER: Server = Server::new("test/server");
    runtime().block_on(async {
        let port = free_port();
        BINDS.store(0, Ordering::SeqCst);
        assert_eq!(SERVER.port(), None);
        // Racing starts bind once; the others say it runs.
        let (a, b, c) = tokio::join!(
            start(&SERVER, port),
            start(&SERVER, port),
            start(&SERVER, port)
        );
        let mut outcomes = [a.unwrap(), b.unwrap(), c.unwrap()];
        outcomes.sort_by_key(|started| matches!(started, Started::Already { .. }));
        assert_eq!(
            outcomes,
            [
                Started::Now { port },
                Started::Already { port },
                Started::Already { port }
            ]
        );
        assert_eq!(BINDS.load(Ordering::SeqCst), 1);
        assert!(active().contains(&"test/server".to_owned()));
        assert!(tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok());

        assert_eq!(SERVER.restart().await.unwrap(), Started::Now { port });
        assert_eq!(BINDS.load(Ordering::SeqCst), 2);

        assert_eq!(SERVER.stop().await.unwrap(), Stopped::Now { port });
        assert!(port_is_free(port), "the port is free when stop returns");
        assert_eq!(SERVER.stop().await.unwrap(), Stopped::NotRunning);
        assert!(!active().contains(&"test/server".to_owned()));
        // A stopped server restarts on its port.
        assert_eq!(SERVER.restart().await.unwrap(), Started::Now { port });
        assert_eq!(SERVER.port(), Some(port));
        lifecycle::stop_async().await.unwrap();
        assert!(port_is_free(port), "stop_async stopped it too");
        assert_eq!(SERVER.port(), None);
    });
}

#[test]
fn a_server_that_cannot_bind_is_an_error_and_leaves_nothing_running() {
    let _turn = turn();
    static SERVER: Server = Server::new("test/taken");
    runtime().block_on(async {
        assert!(SERVER
            .restart()
            .await
            .unwrap_err()
            .to_string()
            .contains("test/taken was never started"));
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let error = start(&SERVER, port).await.unwrap_err();
        assert!(error.to_string().contains("test/taken"), "{error}");
        assert_eq!(SERVER.port(), None);
        assert!(!active().contains(&"test/taken".to_owned()));
        drop(taken);
        assert_eq!(start(&SERVER, port).await.unwrap(), Started::Now { port });
        lifecycle::stop_async().await.unwrap();
    });
}

#[test]
fn a_stop_drops_requests_still_open_after_the_grace_time() {
    let _turn = turn();
    static SERVER: Server =
        Server::new("test/slow").with_grace(std::time::Duration::from_millis(50));
    runtime().block_on(async {
        let port = free_port();
        // Ignores the shutdown signal: only the abort after the grace time ends it.
        SERVER
            .start(port, |port, _shutdown| async move {
                let listener = TcpListener::bind(("127.0.0.1", port)).await?;
                Ok(async move {
                    let _listener = listener;
                    std::future::pending::<std::io::Result<()>>().await
                })
            })
            .await
            .unwrap();
        let began = std::time::Instant::now();
        assert_eq!(SERVER.stop().await.unwrap(), Stopped::Now { port });
        assert!(began.elapsed() >= std::time::Duration::from_millis(50));
        assert!(port_is_free(port));
    });
}

#[test]
fn the_console_drives_a_server_that_depends_on_a_state() {
    let _turn = turn();
    #[defstate(name = "web/config")]
    static HOST: &str = "127.0.0.1";
    static SERVER: Server = Server::new("web/server");
    let rt = runtime();
    let port = free_port();
    rt.block_on(async {
        SERVER
            .start(port, |port, shutdown| async move {
                let host = *HOST.get();
                let listener = TcpListener::bind((host, port)).await?;
                Ok(serve(listener, shutdown))
            })
            .await
            .unwrap();
        let console = Console::new().state(&HOST).main(&SERVER);
        let said = console.execute("status").await;
        assert!(said
            .text()
            .ends_with(&format!("server: running on port {port}")));
        assert_eq!(
            console.execute("start").await.text(),
            format!("server already running on port {port}")
        );
        assert_eq!(
            console.execute("restart config").await.text(),
            format!("restarted web/config and web/server\nserver running on port {port}")
        );
        assert_eq!(
            console.execute("stop server").await.text(),
            format!("stopped web/server\nserver on port {port} stopped")
        );
        assert!(port_is_free(port));
        assert_eq!(
            console.execute("stop server").await.text(),
            "no server running"
        );
        assert!(console
            .execute("status")
            .await
            .text()
            .ends_with("server: stopped"));
        assert_eq!(
            console.execute("start").await.text(),
            format!("started web/server\nserver running on port {port}")
        );
        assert!(console.execute("quit").await.is_quit());
        assert!(port_is_free(port));
    });
}

#[test]
fn blame_and_health_report_the_started_states() {
    let _turn = turn();
    let console = chain::console();
    console.execute_blocking("start");
    let blame = console.execute_blocking("blame");
    let text = blame.text();
    assert!(text.starts_with("       own      total  state\n"), "{text}");
    for name in ["chain/config", "chain/store", "chain/server"] {
        assert!(text.contains(&format!(" ms  {name}\n")), "{text}");
    }
    assert!(
        text.contains("critical chain (@ began after the first start, + took):\nchain/server @"),
        "{text}"
    );
    let health = console.execute_blocking("health chain/server chain/extra");
    let text = health.text();
    assert!(
        text.starts_with("live: yes, ready: no (not ready: chain/extra)"),
        "{text}"
    );
    assert!(text.contains("\n  chain/server realized, up "), "{text}");
    assert!(console
        .execute_blocking("help")
        .text()
        .contains("\n  blame "));
    lifecycle::stop().unwrap();
}
