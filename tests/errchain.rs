//! A failed dependency is an error chain, not a panic: inside a start, a failing `get()` of
//! another state reaches the caller of the outer `try_get()` as `Error::Start` whose source is
//! the dependency's error, with no panic hook run and nothing on stderr (sync and async, and
//! for a start cycle). Outside a start, `get()` still panics, at the caller's line.
//!
//! The tests swap the process-wide panic hook, so each takes the binary's turn (`serial`).

mod common;

use common::{run, serial};
use lifecycle::{defstate, AsyncState, Error};
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::process::Command;
use std::sync::{Arc, LazyLock, Mutex};

#[defstate(name = "app/cfg")]
static CFG: u16 = "80x".parse::<u16>()?;

#[defstate(name = "app/db")]
static DB: u16 = *CFG.get() + 1;

#[defstate(name = "app/db-owned")]
static DB_OWNED: u16 = *CFG.get_owned() + 1;

#[defstate(name = "cycle/a")]
static CYCLE_A: u16 = *CYCLE_B.get() + 1;

#[defstate(name = "cycle/b")]
static CYCLE_B: u16 = *CYCLE_A.get() + 1;

/// A start with a bug in it (not a failed dependency).
fn buggy_start() -> u16 {
    panic!("a real bug")
}

#[defstate(name = "app/panicky")]
static PANICKY: u16 = buggy_start();

#[defstate(name = "app/reads-panicky")]
static READS_PANICKY: u16 = *PANICKY.get() + 1;

const CFG_ERROR: &str = "state `app/cfg` failed to start: invalid digit found in string";

/// Every call of the panic hook while `f` runs: its location and message.
fn hook_calls<R>(f: impl FnOnce() -> R) -> (R, Vec<(String, u32, String)>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&calls);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let location = info.location().expect("a panic has a location");
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|m| (*m).to_owned()))
            .unwrap_or_default();
        sink.lock()
            .unwrap()
            .push((location.file().to_owned(), location.line(), message));
    }));
    let result = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    let calls = calls.lock().unwrap().clone();
    match result {
        Ok(result) => (result, calls),
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// The `Display` of `error` and of each of its sources, outermost first.
fn chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut texts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    texts
}

/// The source of `error` as this library's error.
fn source_error(error: &Error) -> &Error {
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<Error>())
        .unwrap_or_else(|| panic!("the source of {error:?} is not a lifecycle::Error"))
}

#[test]
fn a_failed_get_inside_a_start_is_the_source_of_the_start_error() {
    let _turn = serial();
    let (error, calls) = hook_calls(|| DB.try_get().map(|v| *v).unwrap_err());
    assert_eq!(calls, [], "no panic hook may run");
    assert!(
        matches!(&error, Error::Start { state, .. } if state == "app/db"),
        "{error:?}"
    );
    let cfg = source_error(&error);
    assert!(
        matches!(cfg, Error::Start { state, .. } if state == "app/cfg"),
        "{cfg:?}"
    );
    let digit = std::error::Error::source(cfg).expect("the config's own cause");
    assert!(
        digit.downcast_ref::<std::num::ParseIntError>().is_some(),
        "{digit:?}"
    );
    assert_eq!(
        chain(&error),
        [
            format!("state `app/db` failed to start: {CFG_ERROR}"),
            CFG_ERROR.to_owned(),
            "invalid digit found in string".to_owned(),
        ]
    );
    assert!(!DB.is_realized() && !CFG.is_realized());
    // Nothing was left half-started: a second try fails the same way.
    let (again, calls) = hook_calls(|| DB.try_get().map(|v| *v).unwrap_err());
    assert_eq!(calls, []);
    assert_eq!(again.to_string(), error.to_string());
}

#[test]
fn a_failed_get_owned_inside_a_start_is_the_source_of_the_start_error() {
    let _turn = serial();
    let (error, calls) = hook_calls(|| DB_OWNED.try_get().map(|v| *v).unwrap_err());
    assert_eq!(calls, []);
    assert_eq!(
        error.to_string(),
        format!("state `app/db-owned` failed to start: {CFG_ERROR}")
    );
    assert!(matches!(source_error(&error), Error::Start { state, .. } if state == "app/cfg"));
}

#[test]
fn a_start_cycle_is_one_error_naming_the_cycle_and_prints_nothing() {
    let _turn = serial();
    let (error, calls) = hook_calls(|| CYCLE_A.try_get().map(|v| *v).unwrap_err());
    assert_eq!(calls, [], "no nested panics");
    assert!(
        matches!(&error, Error::Start { state, .. } if state == "cycle/a"),
        "{error:?}"
    );
    let b = source_error(&error);
    assert!(
        matches!(b, Error::Start { state, .. } if state == "cycle/b"),
        "{b:?}"
    );
    let cycle = source_error(b);
    assert!(
        matches!(cycle, Error::Cycle { cycle } if cycle == &["cycle/a", "cycle/b", "cycle/a"]),
        "{cycle:?}"
    );
    assert_eq!(
        error.to_string(),
        "state `cycle/a` failed to start: state `cycle/b` failed to start: start cycle: \
         cycle/a -> cycle/b -> cycle/a"
    );
    assert!(!CYCLE_A.is_realized() && !CYCLE_B.is_realized());
}

#[test]
fn a_real_panic_in_a_dependency_still_runs_the_hook_and_is_start_panicked() {
    let _turn = serial();
    let (error, calls) = hook_calls(|| READS_PANICKY.try_get().map(|v| *v).unwrap_err());
    assert_eq!(calls.len(), 1, "only the bug itself is reported: {calls:?}");
    assert_eq!(calls[0].2, "a real bug");
    let inner = source_error(&error);
    assert!(
        matches!(inner, Error::StartPanicked { state, message }
            if state == "app/panicky" && message == "a real bug"),
        "{inner:?}"
    );
}

#[test]
fn get_outside_a_start_panics_at_the_callers_line() {
    let _turn = serial();
    let (line, calls) = hook_calls(|| {
        let line = line!() + 1;
        let outcome = catch_unwind(|| *CFG.get());
        assert!(outcome.is_err());
        line
    });
    assert_eq!(calls.len(), 1, "{calls:?}");
    let (file, at, message) = &calls[0];
    assert_eq!((file.as_str(), *at), (file!(), line));
    assert_eq!(message, CFG_ERROR);

    let (line, calls) = hook_calls(|| {
        let line = line!() + 1;
        let outcome = catch_unwind(|| *CFG.get_owned());
        assert!(outcome.is_err());
        line
    });
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!((calls[0].0.as_str(), calls[0].1), (file!(), line));
}

// ---------------------------------------------------------------------------------------
// Async starts.
// ---------------------------------------------------------------------------------------

static ASYNC_CFG: LazyLock<AsyncState<u16>> = LazyLock::new(|| {
    AsyncState::new("async/cfg", || async {
        tokio::task::yield_now().await;
        "80x".parse::<u16>().map_err(Error::other)
    })
});

static ASYNC_DB: LazyLock<AsyncState<u16>> = LazyLock::new(|| {
    AsyncState::new("async/db", || async {
        tokio::task::yield_now().await;
        Ok::<_, Error>(*ASYNC_CFG.get().await + 1)
    })
});

/// An async start reading a failing sync state.
static ASYNC_ON_SYNC: LazyLock<AsyncState<u16>> = LazyLock::new(|| {
    AsyncState::new("async/on-sync", || async {
        tokio::task::yield_now().await;
        let port = *CFG.get();
        Ok::<_, Error>(port + 1)
    })
});

static ASYNC_CYCLE_A: LazyLock<AsyncState<u16>> = LazyLock::new(|| {
    AsyncState::new("async-cycle/a", || async {
        Ok::<_, Error>(*ASYNC_CYCLE_B.get().await + 1)
    })
});

static ASYNC_CYCLE_B: LazyLock<AsyncState<u16>> = LazyLock::new(|| {
    AsyncState::new("async-cycle/b", || async {
        tokio::task::yield_now().await;
        Ok::<_, Error>(*ASYNC_CYCLE_A.get().await + 1)
    })
});

#[test]
fn a_failed_get_inside_an_async_start_is_the_source_of_the_start_error() {
    let _turn = serial();
    let (error, calls) = hook_calls(|| run(async { ASYNC_DB.try_get().await.map(|v| *v) }));
    let error = error.unwrap_err();
    assert_eq!(calls, [], "no panic hook may run");
    assert_eq!(
        chain(&error),
        [
            "state `async/db` failed to start: state `async/cfg` failed to start: invalid \
             digit found in string",
            "state `async/cfg` failed to start: invalid digit found in string",
            "invalid digit found in string",
        ]
    );
    assert!(matches!(source_error(&error), Error::Start { state, .. } if state == "async/cfg"));
    assert!(!ASYNC_DB.is_realized() && !ASYNC_CFG.is_realized());
}

#[test]
fn a_failed_sync_get_inside_an_async_start_is_the_source_of_the_start_error() {
    let _turn = serial();
    let (error, calls) = hook_calls(|| run(async { ASYNC_ON_SYNC.try_get().await.map(|v| *v) }));
    let error = error.unwrap_err();
    assert_eq!(calls, []);
    assert_eq!(
        error.to_string(),
        format!("state `async/on-sync` failed to start: {CFG_ERROR}")
    );
    assert!(matches!(source_error(&error), Error::Start { state, .. } if state == "app/cfg"));
}

#[test]
fn an_async_start_cycle_is_one_error_naming_the_cycle_and_prints_nothing() {
    let _turn = serial();
    let (error, calls) = hook_calls(|| run(async { ASYNC_CYCLE_A.try_get().await.map(|v| *v) }));
    let error = error.unwrap_err();
    assert_eq!(calls, [], "no nested panics");
    assert_eq!(
        error.to_string(),
        "state `async-cycle/a` failed to start: state `async-cycle/b` failed to start: start \
         cycle: async-cycle/a -> async-cycle/b -> async-cycle/a"
    );
    let cycle = source_error(source_error(&error));
    assert!(matches!(cycle, Error::Cycle { .. }), "{cycle:?}");
}

#[test]
fn async_get_outside_a_start_panics_naming_the_callers_line() {
    let _turn = serial();
    static CALLED_AT: Mutex<Option<String>> = Mutex::new(None);
    let (outcome, calls) = hook_calls(|| {
        run(async {
            let get = ASYNC_CFG.get();
            *CALLED_AT.lock().unwrap() = Some(format!("{}:{}", file!(), line!() - 1));
            tokio::spawn(async move { *get.await }).await
        })
    });
    assert!(outcome.unwrap_err().is_panic());
    assert_eq!(calls.len(), 1, "{calls:?}");
    let called_at = CALLED_AT.lock().unwrap().clone().unwrap();
    let message = &calls[0].2;
    assert!(
        message.starts_with("state `async/cfg` failed to start: invalid digit")
            && message.contains(&called_at),
        "{message} should name {called_at}"
    );
    // A `Location` of this file has the same form as the one in the message.
    assert!(called_at.starts_with(Location::caller().file()));
}

// ---------------------------------------------------------------------------------------
// Nothing on stderr: the sync and async failures again, in a child process.
// ---------------------------------------------------------------------------------------

const CHILD: &str = "LIFECYCLE_ERRCHAIN_CHILD";

/// In the child (run by the test below), fails the sync and async dependency chains and a
/// cycle with the default panic hook in place; prints what it got on stdout.
#[test]
fn child_fails_its_dependencies() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let sync = DB.try_get().map(|v| *v).unwrap_err();
    let cycle = CYCLE_A.try_get().map(|v| *v).unwrap_err();
    let on_sync = run(async { ASYNC_ON_SYNC.try_get().await.map(|v| *v) }).unwrap_err();
    let async_chain = run(async { ASYNC_DB.try_get().await.map(|v| *v) }).unwrap_err();
    for error in [sync, cycle, on_sync, async_chain] {
        println!("child error: {error}");
    }
}

#[test]
fn a_failed_dependency_prints_nothing_to_stderr() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_fails_its_dependencies",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(stderr, "", "stdout: {stdout}");
    assert_eq!(
        stdout.matches("child error: state `").count(),
        4,
        "every failure came back as an error: {stdout}"
    );
    assert!(stdout.contains(&format!(
        "child error: state `app/db` failed to start: {CFG_ERROR}"
    )));
}

#[test]
fn the_hook_counter_sees_a_panic() {
    // The other tests assert that the hook ran zero times: make sure it would have counted.
    let _turn = serial();
    let (caught, calls) = hook_calls(|| catch_unwind(|| panic!("counted")).is_err());
    assert!(caught);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].2, "counted");
}
