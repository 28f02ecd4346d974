//! `with_resources!` and the `Resource` impls, through the public macros: every exit path
//! closes what was opened, in reverse order, and the errors come back in the right shape.

mod common;

use lifecycle::prelude::*;
use lifecycle::Error;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

/// What happened, in order: `open x`, `close x`, `body`, ...
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.borrow_mut())
    }

    /// Opens a probe that closes cleanly.
    fn open(&self, name: &'static str) -> Probe {
        self.push(format!("open {name}"));
        Probe {
            name,
            log: self.clone(),
            close: Close::Ok,
        }
    }

    /// Opens a probe, or fails if `name` is `fail`.
    fn try_open(&self, name: &'static str, fail: &str) -> Result<Probe, String> {
        if name == fail {
            self.push(format!("fail {name}"));
            Err(format!("{name} cannot open"))
        } else {
            Ok(self.open(name))
        }
    }

    fn open_with(&self, name: &'static str, close: Close) -> Probe {
        Probe {
            close,
            ..self.open(name)
        }
    }
}

#[derive(Clone, Copy)]
enum Close {
    Ok,
    Fail,
    Panic,
}

struct Probe {
    name: &'static str,
    log: Log,
    close: Close,
}

impl Probe {
    fn name(&self) -> &'static str {
        self.name
    }
}

impl Resource for Probe {
    fn close(self) -> Result<(), Error> {
        self.log.push(format!("close {}", self.name));
        match self.close {
            Close::Ok => Ok(()),
            Close::Fail => Err(format!("{} cannot close", self.name).into()),
            Close::Panic => panic!("{} panicked while closing", self.name),
        }
    }
}

/// A resource that borrows another one.
struct Handler<'a> {
    probe: &'a Probe,
    log: Log,
}

impl Resource for Handler<'_> {
    fn close(self) -> Result<(), Error> {
        self.log
            .push(format!("close handler of {}", self.probe.name));
        Ok(())
    }
}

fn strings(entries: &[&str]) -> Vec<String> {
    entries.iter().map(|entry| (*entry).to_owned()).collect()
}

#[test]
fn normal_end_closes_in_reverse_order_and_returns_the_body() {
    let log = Log::default();
    let result = with_resources!([a = log.open("a"), b = log.open("b"), c = log.open("c")] {
        log.push("body");
        format!("{}{}{}", a.name(), b.name(), c.name())
    });
    assert_eq!(result.unwrap(), "abc");
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "open c", "body", "close c", "close b", "close a"])
    );
}

#[test]
fn later_bindings_borrow_earlier_ones() {
    let log = Log::default();
    let result = with_resources!([
        db = log.open("db"),
        handler = Handler { probe: &db, log: log.clone() },
    ] {
        handler.probe.name().len() + db.name().len()
    });
    assert_eq!(result.unwrap(), 4);
    assert_eq!(
        log.take(),
        strings(&["open db", "close handler of db", "close db"])
    );
}

#[test]
fn bindings_are_mutable_references() {
    let log = Log::default();
    let result = with_resources!([list = closeable(vec![1], |_| ()), p = log.open("p")] {
        list.push(2);
        p.name = "renamed";
        list.len()
    });
    assert_eq!(result.unwrap(), 2);
    assert_eq!(log.take(), strings(&["open p", "close renamed"]));
}

#[test]
fn question_mark_in_the_first_binding_opens_nothing() {
    let log = Log::default();
    let result: Result<(), Error> = with_resources!([
        _a = log.try_open("a", "a")?,
        _b = log.try_open("b", "a")?,
    ] {
        log.push("body");
    });
    let error = result.unwrap_err();
    // The name is the binding's, as written.
    assert!(
        matches!(&error, Error::Open { resource, .. } if resource == "_a"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "resource `_a` failed to open: a cannot open"
    );
    assert_eq!(error.resource(), Some("_a"));
    assert_eq!(log.take(), strings(&["fail a"]));
}

#[test]
fn question_mark_in_a_middle_binding_closes_what_was_opened() {
    let log = Log::default();
    let result: Result<(), Error> = with_resources!([
        _a = log.try_open("a", "c")?,
        _b = log.try_open("b", "c")?,
        _c = log.try_open("c", "c")?,
        _d = log.try_open("d", "c")?,
    ] {
        log.push("body");
    });
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        "resource `_c` failed to open: c cannot open"
    );
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "fail c", "close b", "close a"])
    );
}

#[test]
fn question_mark_in_the_last_binding_closes_all_others_in_reverse() {
    let log = Log::default();
    let result: Result<(), Error> = with_resources!([
        _a = log.try_open("a", "c")?,
        _b = log.try_open("b", "c")?,
        _c = log.try_open("c", "c")?,
    ] {
        log.push("body");
    });
    assert!(result.is_err());
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "fail c", "close b", "close a"])
    );
}

#[test]
fn a_failing_close_during_rollback_is_attached_after_the_open_error() {
    let log = Log::default();
    let fails =
        |name: &'static str| -> Result<Probe, String> { Err(format!("{name} cannot open")) };
    let result: Result<(), Error> = with_resources!([
        _a = log.open_with("a", Close::Fail),
        _b = log.open_with("b", Close::Panic),
        _c = log.open("c"),
        _d = fails("d")?,
    ] {
        log.push("body");
    });
    let error = result.unwrap_err();
    let Error::Rollback {
        error: first,
        close_errors,
    } = &error
    else {
        panic!("expected a rollback, got {error:?}");
    };
    assert_eq!(
        first.to_string(),
        "resource `_d` failed to open: d cannot open"
    );
    let closes: Vec<String> = close_errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        closes,
        [
            "resource `_b` panicked while closing: b panicked while closing",
            "resource `_a` failed to close: a cannot close",
        ]
    );
    assert!(error
        .to_string()
        .starts_with("resource `_d` failed to open"));
    assert_eq!(error.resource(), Some("_d"));
    assert_eq!(
        std::error::Error::source(&error).map(ToString::to_string),
        Some(first.to_string())
    );
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "open c", "close c", "close b", "close a"])
    );
}

#[test]
fn a_panic_in_the_body_closes_in_reverse_then_goes_on() {
    let log = Log::default();
    let payload = catch_unwind(AssertUnwindSafe(|| {
        let _ = with_resources!([a = log.open("a"), b = log.open("b")] {
            log.push("body");
            if a.name() == "a" {
                panic!("body blew up");
            }
            b.name()
        });
    }))
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"body blew up"));
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "body", "close b", "close a"])
    );
}

#[test]
fn a_panic_in_a_binding_closes_the_earlier_ones() {
    let log = Log::default();
    let explode = || -> Probe { panic!("opening blew up") };
    let payload = catch_unwind(AssertUnwindSafe(|| {
        let _ = with_resources!([_a = log.open("a"), _b = log.open("b"), _c = explode()] {
            log.push("body");
        });
    }))
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"opening blew up"));
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "close b", "close a"])
    );
}

#[test]
fn a_panic_in_the_body_with_a_panicking_close_does_not_abort() {
    let log = Log::default();
    let payload = catch_unwind(AssertUnwindSafe(|| {
        let _ = with_resources!([_a = log.open("a"), _b = log.open_with("b", Close::Panic)] {
            panic!("body blew up");
        });
    }))
    .unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"body blew up"));
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "close b", "close a"])
    );
}

#[test]
fn close_failures_at_the_normal_end_are_returned_and_every_resource_is_closed() {
    let log = Log::default();
    let result = with_resources!([_a = log.open("a"), _b = log.open_with("b", Close::Fail)] {
        log.push("body");
        1
    });
    let error = result.unwrap_err();
    assert_eq!(
        error.to_string(),
        "resource `_b` failed to close: b cannot close"
    );
    assert_eq!(error.resource(), Some("_b"));
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "body", "close b", "close a"])
    );

    let result = with_resources!([
        _a = log.open_with("a", Close::Fail),
        _b = log.open("b"),
        _c = log.open_with("c", Close::Panic),
    ] {
        2
    });
    let Err(Error::CloseAll { errors }) = result else {
        panic!("expected CloseAll");
    };
    let names: Vec<_> = errors.iter().map(|error| error.resource()).collect();
    assert_eq!(names, [Some("_c"), Some("_a")]);
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "open c", "close c", "close b", "close a"])
    );
}

fn returns_from_the_body(log: &Log) -> &'static str {
    let _ = with_resources!([_a = log.open("a"), b = log.open("b")] {
        if b.name() == "b" {
            return "returned";
        }
        log.push("after return");
    });
    "fell through"
}

#[test]
fn return_in_the_body_leaves_the_function_and_closes_in_reverse() {
    let log = Log::default();
    assert_eq!(returns_from_the_body(&log), "returned");
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "close b", "close a"])
    );
}

fn question_mark_in_the_body(log: &Log) -> Result<u32, Error> {
    let value = with_resources!([_a = log.open("a"), _b = log.open("b")] {
        let parsed: u32 = "not a number".parse().map_err(Error::other)?;
        parsed
    })?;
    Ok(value)
}

#[test]
fn question_mark_in_the_body_propagates_to_the_function_and_closes() {
    let log = Log::default();
    let error = question_mark_in_the_body(&log).unwrap_err();
    assert_eq!(error.to_string(), "invalid digit found in string");
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "close b", "close a"])
    );
}

#[test]
fn break_and_continue_in_the_body_close_each_time() {
    let log = Log::default();
    for round in 0..3 {
        let _ = with_resources!([_r = log.open("r")] {
            if round == 0 {
                continue;
            }
            if round == 1 {
                break;
            }
            log.push("unreachable");
        });
    }
    assert_eq!(
        log.take(),
        strings(&["open r", "close r", "open r", "close r"])
    );
}

#[test]
fn underscore_bindings_are_opened_and_closed() {
    let log = Log::default();
    let result = with_resources!([_ = log.open("lock"), b = log.open("b")] { b.name() });
    assert_eq!(result.unwrap(), "b");
    assert_eq!(
        log.take(),
        strings(&["open lock", "open b", "close b", "close lock"])
    );
}

#[test]
fn no_bindings_just_runs_the_body() {
    let result: Result<i32, Error> = with_resources!([] { 7 });
    assert_eq!(result.unwrap(), 7);
}

#[test]
fn nested_scopes_close_inner_first() {
    let log = Log::default();
    let result = with_resources!([outer = log.open("outer")] {
        with_resources!([inner = log.open("inner")] {
            format!("{}/{}", outer.name(), inner.name())
        })
    });
    assert_eq!(result.unwrap().unwrap(), "outer/inner");
    assert_eq!(
        log.take(),
        strings(&["open outer", "open inner", "close inner", "close outer"])
    );
}

#[derive(Debug)]
struct CustomError;

impl std::fmt::Display for CustomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("custom failure")
    }
}

impl std::error::Error for CustomError {}

#[test]
fn question_mark_accepts_any_error_type() {
    let io = || -> std::io::Result<Probe> { Err(std::io::Error::other("disk gone")) };
    let custom = || -> Result<Probe, CustomError> { Err(CustomError) };
    let text = || -> Result<Probe, &'static str> { Err("plain text") };
    let ours = || -> Result<Probe, Error> { Err(Error::other("ours")) };

    let error = with_resources!([r = io()?] { r.name() }).unwrap_err();
    assert_eq!(error.to_string(), "resource `r` failed to open: disk gone");
    let error = with_resources!([r = custom()?] { r.name() }).unwrap_err();
    let Error::Open { source, .. } = &error else {
        panic!("{error:?}")
    };
    // The user's error is kept, so it can be downcast.
    let source: &Error = source.downcast_ref().unwrap();
    let Error::Other(inner) = source else {
        panic!("{source:?}")
    };
    assert!(inner.downcast_ref::<CustomError>().is_some());
    let error = with_resources!([r = text()?] { r.name() }).unwrap_err();
    assert_eq!(error.to_string(), "resource `r` failed to open: plain text");
    let error = with_resources!([r = ours()?] { r.name() }).unwrap_err();
    assert_eq!(error.to_string(), "resource `r` failed to open: ours");
}

#[test]
fn question_marks_inside_closures_keep_their_own_meaning() {
    let log = Log::default();
    let result = with_resources!([
        r = {
            let parse = |text: &str| -> Result<usize, std::num::ParseIntError> {
                Ok(text.parse::<usize>()? + 1)
            };
            closeable(parse("41").unwrap(), |_| ())
        },
        p = log.open("p"),
    ] {
        **r + p.name().len() - 1
    });
    assert_eq!(result.unwrap(), 42);
}

#[test]
fn states_vectors_and_tuples_are_resources() {
    let log = Log::default();
    let stops = Rc::new(RefCell::new(0));
    let result = with_resources!([
        state = lifecycle::State::new("resources::with_state", || Ok(5)),
        list = vec![log.open("v1"), log.open("v2")],
        pair = (log.open("t1"), log.open("t2")),
    ] {
        *stops.borrow_mut() += 1;
        *state.get() + list.len() + pair.0.name().len()
    });
    assert_eq!(result.unwrap(), 9);
    assert_eq!(
        log.take(),
        strings(&[
            "open v1", "open v2", "open t1", "open t2", "close t2", "close t1", "close v2",
            "close v1"
        ])
    );
    assert!(lifecycle::status()
        .iter()
        .all(|state| state.name() != "resources::with_state"));
}

#[test]
fn a_state_binding_is_stopped_at_the_end() {
    let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stopped);
    let result = with_resources!([
        state = lifecycle::State::new("resources::stopped_state", || Ok(String::from("value")))
            .with_stop(move |_| flag.store(true, std::sync::atomic::Ordering::SeqCst)),
    ] {
        state.get().len()
    });
    assert_eq!(result.unwrap(), 5);
    assert!(stopped.load(std::sync::atomic::Ordering::SeqCst));
}

mod in_async_code {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

    fn noop_waker() -> Waker {
        fn clone(_: *const ()) -> RawWaker {
            RawWaker::new(std::ptr::null(), &VTABLE)
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        // SAFETY: the vtable's functions do nothing and never touch the data pointer.
        unsafe { Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
    }

    /// Runs a future whose awaits are all ready.
    fn block_on<F: Future>(future: F) -> F::Output {
        let waker = noop_waker();
        let mut context = Context::from_waker(&waker);
        match pin!(future).poll(&mut context) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("the test futures never wait"),
        }
    }

    async fn open(log: &Log, name: &'static str, fail: bool) -> Result<Probe, String> {
        if fail {
            Err(format!("{name} cannot open"))
        } else {
            Ok(log.open(name))
        }
    }

    #[test]
    fn await_works_in_bindings_and_body() {
        let log = Log::default();
        let result = block_on(async {
            with_resources!([a = open(&log, "a", false).await?, b = open(&log, "b", false).await?] {
                let extra = open(&log, "extra", false).await.map(|probe| probe.close());
                assert!(matches!(extra, Ok(Ok(()))));
                a.name().len() + b.name().len()
            })
        });
        assert_eq!(result.unwrap(), 2);
        assert_eq!(
            log.take(),
            strings(&[
                "open a",
                "open b",
                "open extra",
                "close extra",
                "close b",
                "close a"
            ])
        );
        let result = block_on(async {
            with_resources!([_a = open(&log, "a", false).await?, _b = open(&log, "b", true).await?] {
                unreachable!()
            })
        });
        let error: Error = result.unwrap_err();
        assert_eq!(error.resource(), Some("_b"));
        assert_eq!(log.take(), strings(&["open a", "close a"]));
    }
}

mod hygiene {
    //! The expansions name only absolute paths: shadowing the prelude and `core` in the
    //! caller's module changes nothing.
    #![allow(dead_code, non_camel_case_types)]

    crate::common::shadow_prelude!();

    type Res<T> = ::core::result::Result<T, lifecycle::Error>;

    fn open(fail: bool) -> Res<lifecycle::Closeable<u8>> {
        if fail {
            ::core::result::Result::Err(lifecycle::Error::other("down"))
        } else {
            ::core::result::Result::Ok(lifecycle::closeable(1, |_| ()))
        }
    }

    lifecycle::mk_system! {
        pub struct Shadowed(fail: bool) {
            pub first: lifecycle::Closeable<u8> = open(false)?,
            pub second: lifecycle::Closeable<u8> = open(fail)?,
        }
    }

    lifecycle::defresource!(SHADOWED_PLACE: lifecycle::Closeable<u8>);

    #[lifecycle::main]
    fn not_really_main() -> Res<()> {
        ::core::result::Result::Ok(())
    }

    #[test]
    fn the_macros_expand_in_a_module_that_shadows_the_prelude() {
        let value = lifecycle::with_resources!([a = open(false)?, b = open(false)?] { **a + **b });
        assert_eq!(value.unwrap(), 2);
        assert!(Shadowed::start(true).is_err());
        Shadowed::start(false).unwrap().close().unwrap();
        SHADOWED_PLACE.define(|| open(false)).unwrap();
        SHADOWED_PLACE.close().unwrap();
        let _: fn() -> ::std::process::ExitCode = not_really_main;
    }
}
