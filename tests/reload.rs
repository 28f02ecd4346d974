//! Reload (issue 13): a new value starts beside the old one and is swapped in only if that
//! start succeeds; the running dependents restart against it. Sync and async states, the
//! process-wide `lifecycle::reload()`, and reloads racing readers and stops.

mod common;

use common::{events_of, serial, Log, StopTimeout};
use lifecycle::{AsyncState, Error, State, StateInfo, Status};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// A config whose start reads `port` and logs `start <port>`/`stop <port>`; the start fails
/// while `fail` is set.
struct Config {
    port: Arc<AtomicU32>,
    fail: Arc<AtomicBool>,
    log: Log,
    state: Arc<State<u32>>,
}

fn config(name: &'static str, reloadable: bool) -> Config {
    let (port, log) = (Arc::new(AtomicU32::new(1)), Log::default());
    let fail = Arc::new(AtomicBool::new(false));
    let info = StateInfo::named(name);
    let info = if reloadable { info.reloadable() } else { info };
    let (p, f, l, s) = (port.clone(), Arc::clone(&fail), log.clone(), log.clone());
    let state = State::from_info(info, move || {
        if f.load(Ordering::SeqCst) {
            return Err("injected fault: bad config".into());
        }
        let port = p.load(Ordering::SeqCst);
        l.push(format!("start {port}"));
        Ok(port)
    })
    .with_stop(move |port| s.push(format!("stop {port}")));
    Config {
        port,
        fail,
        log,
        state: Arc::new(state),
    }
}

/// A server that reads `config` in its start.
fn server(name: &'static str, config: &Arc<State<u32>>, log: &Log) -> State<String> {
    let (c, l, s) = (Arc::clone(config), log.clone(), log.clone());
    State::new(name, move || {
        let on = format!("server on {}", *c.get());
        l.push(format!("start {on}"));
        Ok(on)
    })
    .with_stop(move |on| s.push(format!("stop {on}")))
}

#[test]
fn reload_swaps_the_new_value_in_and_restarts_the_running_dependents_against_it() {
    let _turn = serial();
    let cfg = config("reload-sync/config", false);
    let server = server("reload-sync/server", &cfg.state, &cfg.log);
    assert_eq!(*server.get(), "server on 1");
    cfg.log.take();

    cfg.port.store(2, Ordering::SeqCst);
    let events = events_of("reload-sync/", || {
        let reloaded = cfg.state.reload().unwrap();
        assert_eq!(
            reloaded.stopped,
            ["reload-sync/server", "reload-sync/config"]
        );
        assert_eq!(
            reloaded.started,
            ["reload-sync/config", "reload-sync/server"]
        );
    });
    // The new value starts first, beside the old one; the old stops after the swap.
    assert_eq!(
        cfg.log.take(),
        ["start 2", "stop server on 1", "stop 1", "start server on 2"]
    );
    assert_eq!(*server.get(), "server on 2");
    assert_eq!(*cfg.state.get(), 2);
    assert!(
        events.contains(&"Reloaded reload-sync/config".to_owned()),
        "{events:?}"
    );
    server.stop().unwrap();
    cfg.state.stop().unwrap();
}

#[test]
fn readers_keep_reading_the_old_value_while_the_new_one_starts() {
    let _turn = serial();
    let gate = Arc::new(Barrier::new(2));
    let generation = Arc::new(AtomicU32::new(1));
    let (g, n) = (Arc::clone(&gate), Arc::clone(&generation));
    let state = Arc::new(State::new("reload-readers/config", move || {
        let generation = n.load(Ordering::SeqCst);
        if generation > 1 {
            g.wait(); // the new start is running ...
            g.wait(); // ... until the reader below has read the old value
        }
        Ok(generation)
    }));
    assert_eq!(*state.get(), 1);
    generation.store(2, Ordering::SeqCst);
    let reloading = {
        let state = Arc::clone(&state);
        std::thread::spawn(move || state.reload())
    };
    gate.wait();
    // The new value's start is in progress on the other thread: the old value serves.
    assert_eq!(*state.get(), 1);
    assert!(state.is_realized());
    assert_eq!(state.status(), Status::Realized);
    gate.wait();
    reloading.join().unwrap().unwrap();
    assert_eq!(*state.get(), 2);
    state.stop().unwrap();
}

#[test]
fn a_failed_new_start_leaves_the_old_value_serving_and_touches_nothing_else() {
    let _turn = serial();
    let cfg = config("reload-fail/config", false);
    let server = server("reload-fail/server", &cfg.state, &cfg.log);
    server.get();
    cfg.log.take();

    cfg.fail.store(true, Ordering::SeqCst);
    cfg.port.store(2, Ordering::SeqCst);
    let mut error = None;
    let events = events_of("reload-fail/", || error = cfg.state.reload().err());
    let error = error.expect("the reload fails");
    assert!(
        matches!(&error, Error::Reload { state, source }
            if state == "reload-fail/config" && matches!(**source, Error::Start { .. })),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("the old value keeps serving"),
        "{error}"
    );
    assert!(error.to_string().contains("bad config"), "{error}");
    assert!(cfg.state.is_realized());
    assert!(server.is_realized());
    assert_eq!(*cfg.state.get(), 1);
    assert_eq!(*server.get(), "server on 1");
    assert_eq!(
        cfg.log.take(),
        Vec::<String>::new(),
        "nothing stopped or started"
    );
    assert!(
        events
            .iter()
            .any(|e| e.starts_with("ReloadFailed(") && e.ends_with("reload-fail/config")),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| e.contains("Stopping")), "{events:?}");

    // Once the fault is gone a reload succeeds.
    cfg.fail.store(false, Ordering::SeqCst);
    cfg.state.reload().unwrap();
    assert_eq!(*server.get(), "server on 2");
    server.stop().unwrap();
    cfg.state.stop().unwrap();
}

#[test]
fn reloading_an_unrealized_state_does_nothing() {
    let _turn = serial();
    let cfg = config("reload-unrealized/config", true);
    let reloaded = cfg.state.reload().unwrap();
    assert!(reloaded.stopped.is_empty() && reloaded.started.is_empty());
    assert!(!cfg.state.is_realized());
    assert!(cfg.log.take().is_empty());
}

#[test]
fn a_stop_during_the_new_start_abandons_the_reload_and_stops_the_new_value() {
    let _turn = serial();
    let gate = Arc::new(Barrier::new(2));
    let generation = Arc::new(AtomicU32::new(1));
    let log = Log::default();
    let (g, n, l, s) = (
        Arc::clone(&gate),
        Arc::clone(&generation),
        log.clone(),
        log.clone(),
    );
    let state = Arc::new(
        State::new("reload-stop/config", move || {
            let generation = n.load(Ordering::SeqCst);
            if generation > 1 {
                g.wait();
                g.wait();
            }
            l.push(format!("start {generation}"));
            Ok(generation)
        })
        .with_stop(move |generation| s.push(format!("stop {generation}"))),
    );
    state.get();
    generation.store(2, Ordering::SeqCst);
    let reloading = {
        let state = Arc::clone(&state);
        std::thread::spawn(move || state.reload())
    };
    gate.wait();
    state.stop().unwrap();
    gate.wait();
    let error = reloading.join().unwrap().unwrap_err();
    assert!(
        matches!(&error, Error::Reload { source, .. }
            if matches!(**source, Error::ReloadAbandoned { .. })),
        "{error:?}"
    );
    assert!(
        !state.is_realized(),
        "the stop wins: the state stays stopped"
    );
    assert_eq!(log.take(), ["start 1", "stop 1", "start 2", "stop 2"]);
}

#[test]
fn a_guard_held_through_the_swap_fails_the_reload_and_keeps_the_old_value() {
    let _turn = serial();
    let _timeout = StopTimeout::set(Duration::from_millis(50));
    let cfg = config("reload-held/config", false);
    let server = server("reload-held/server", &cfg.state, &cfg.log);
    server.get();
    let held = cfg.state.get_owned();
    cfg.log.take();
    cfg.port.store(2, Ordering::SeqCst);
    let error = cfg.state.reload().unwrap_err();
    assert!(
        matches!(&error, Error::Reload { source, .. }
            if matches!(**source, Error::StillInUse { .. })),
        "{error:?}"
    );
    assert_eq!(*held, 1);
    drop(held);
    // The new value was stopped; the dependent came back against the old value.
    assert_eq!(
        cfg.log.take(),
        ["start 2", "stop server on 1", "stop 2", "start server on 1"]
    );
    assert_eq!(*cfg.state.get(), 1);
    server.stop().unwrap();
    cfg.state.stop().unwrap();
}

#[test]
fn process_wide_reload_reloads_only_the_realized_states_marked_reloadable() {
    let _turn = serial();
    let marked = config("reload-all/marked", true);
    let unmarked = config("reload-all/unmarked", false);
    let failing = config("reload-all/failing", true);
    let idle = config("reload-all/idle", true);
    let server = server("reload-all/server", &marked.state, &marked.log);
    server.get();
    unmarked.state.get();
    failing.state.get();
    for cfg in [&marked, &unmarked, &failing] {
        cfg.port.store(7, Ordering::SeqCst);
        cfg.log.take();
    }
    failing.fail.store(true, Ordering::SeqCst);

    let report = lifecycle::reload();
    let reloaded: Vec<&str> = report.reloaded.iter().map(|(n, _)| n.as_str()).collect();
    assert!(reloaded.contains(&"reload-all/marked"), "{report}");
    assert!(!reloaded
        .iter()
        .any(|n| n.contains("unmarked") || n.contains("idle")));
    let failed: Vec<&str> = report.failed.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(failed, ["reload-all/failing"], "{report}");
    assert!(!report.is_ok());
    assert!(
        report
            .to_string()
            .contains("reloaded reload-all/marked (restarted reload-all/server)"),
        "{report}"
    );

    assert_eq!(*marked.state.get(), 7);
    assert_eq!(*server.get(), "server on 7");
    assert_eq!(*unmarked.state.get(), 1, "unmarked states are untouched");
    assert!(unmarked.log.take().is_empty());
    assert_eq!(
        *failing.state.get(),
        1,
        "a failed reload keeps the old value"
    );
    assert!(
        !idle.state.is_realized(),
        "unrealized states are not started"
    );
    server.stop().unwrap();
    for cfg in [&marked, &unmarked, &failing] {
        cfg.state.stop().unwrap();
    }
}

/// An async config whose start reads `port`; the start fails while `fail` is set.
fn async_config(
    name: &'static str,
    port: &Arc<AtomicU32>,
    fail: &Arc<AtomicBool>,
    gate: Option<Arc<tokio::sync::Barrier>>,
) -> Arc<AsyncState<u32>> {
    let (p, f) = (Arc::clone(port), Arc::clone(fail));
    Arc::new(AsyncState::from_info(
        StateInfo::named(name).reloadable(),
        move || {
            let (p, f, gate) = (Arc::clone(&p), Arc::clone(&f), gate.clone());
            async move {
                let port = p.load(Ordering::SeqCst);
                if let (Some(gate), true) = (gate, port > 1) {
                    gate.wait().await;
                    gate.wait().await;
                }
                if f.load(Ordering::SeqCst) {
                    return Err(Error::other("injected fault: bad config"));
                }
                Ok(port)
            }
        },
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)] // the turn is this test binary's, held for the whole test
async fn async_reload_keeps_the_old_value_readable_then_restarts_dependents() {
    let _turn = serial();
    let (port, fail) = (
        Arc::new(AtomicU32::new(1)),
        Arc::new(AtomicBool::new(false)),
    );
    let gate = Arc::new(tokio::sync::Barrier::new(2));
    let config = async_config("reload-async/config", &port, &fail, Some(Arc::clone(&gate)));
    let server = {
        let config = Arc::clone(&config);
        Arc::new(AsyncState::new("reload-async/server", move || {
            let config = Arc::clone(&config);
            async move { Ok::<_, Error>(format!("server on {}", *config.get().await)) }
        }))
    };
    assert_eq!(*server.get().await, "server on 1");

    port.store(2, Ordering::SeqCst);
    let reloading = tokio::spawn({
        let config = Arc::clone(&config);
        async move { config.reload().await }
    });
    gate.wait().await;
    assert_eq!(
        *config.get().await,
        1,
        "the old value serves during the new start"
    );
    assert!(config.is_realized());
    assert!(server.is_realized());
    gate.wait().await;
    let reloaded = reloading.await.unwrap().unwrap();
    assert_eq!(
        reloaded.started,
        ["reload-async/config", "reload-async/server"]
    );
    assert_eq!(*server.get().await, "server on 2");

    // A failing new start: the old value keeps serving; nothing restarts.
    fail.store(true, Ordering::SeqCst);
    port.store(3, Ordering::SeqCst);
    let reload = tokio::spawn({
        let config = Arc::clone(&config);
        async move { config.reload().await }
    });
    gate.wait().await;
    gate.wait().await;
    let error = reload.await.unwrap().unwrap_err();
    assert!(matches!(error, Error::Reload { .. }), "{error:?}");
    assert_eq!(*config.get().await, 2);
    assert_eq!(*server.get().await, "server on 2");

    // The process-wide form reloads it too (it is marked reloadable).
    fail.store(false, Ordering::SeqCst);
    port.store(1, Ordering::SeqCst); // no gate for port 1
    let report = lifecycle::reload_async().await;
    assert!(report.is_ok(), "{report}");
    assert_eq!(*server.get().await, "server on 1");
    server.stop().await.unwrap();
    config.stop().await.unwrap();
}

mod through_the_macros {
    use lifecycle::prelude::*;

    #[defstate(reload, name = "reload-macro/config")]
    static CONFIG: u32 = 1;

    #[defstate(name = "reload-macro/plain")]
    static PLAIN: u32 = 1;

    #[defstate(reload, name = "reload-macro/async")]
    static ASYNC: u32 = async { 1 };

    lifecycle::decl::defstate! {
        static BLOCK: u32 = 1;
        name = "reload-macro/block";
        reload;
    }

    #[test]
    fn the_reload_flag_marks_static_sync_async_and_local_states() {
        assert!(BLOCK.info().is_reloadable());
        assert!(CONFIG.info().is_reloadable());
        assert!(!PLAIN.info().is_reloadable());
        assert!(ASYNC.info().is_reloadable());
        let local = state! { start: 1_u32, name: "reload-macro/local", reload };
        assert!(local.info().is_reloadable());
        let unmarked = state! { start: 1_u32, name: "reload-macro/unmarked" };
        assert!(!unmarked.info().is_reloadable());
    }
}

#[test]
fn what_the_new_start_reads_becomes_the_dependencies_once_it_is_swapped_in() {
    let _turn = serial();
    let extra = Arc::new(State::new("reload-edges/extra", || Ok(5_u32)));
    let read_extra = Arc::new(AtomicBool::new(false));
    let (e, r) = (Arc::clone(&extra), Arc::clone(&read_extra));
    let config = State::new("reload-edges/config", move || {
        Ok(if r.load(Ordering::SeqCst) {
            *e.get()
        } else {
            1
        })
    });
    config.get();
    extra.get();
    let restarted = extra.restart().unwrap();
    assert_eq!(
        restarted.stopped,
        ["reload-edges/extra"],
        "not a dependency yet"
    );

    read_extra.store(true, Ordering::SeqCst);
    config.reload().unwrap();
    assert_eq!(*config.get(), 5);
    let restarted = extra.restart().unwrap();
    assert_eq!(
        restarted.stopped,
        ["reload-edges/config", "reload-edges/extra"],
        "the new start read it"
    );
    config.stop().unwrap();
    extra.stop().unwrap();
}
