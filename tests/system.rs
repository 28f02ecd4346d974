//! `mk_system!`: start in declaration order, close in reverse, roll back a failed start (at
//! the first, a middle and the last part, with failing closes), nesting, and no allocation.

mod common;

use lifecycle::prelude::*;
use lifecycle::Error;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

/// What happened, in order.
#[derive(Clone, Default)]
pub struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, entry: impl Into<String>) {
        self.0.borrow_mut().push(entry.into());
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

/// How each part behaves, by name.
#[derive(Clone, Copy, Default)]
pub struct Plan {
    fail_open: Option<&'static str>,
    panic_open: Option<&'static str>,
    fail_close: &'static [&'static str],
}

pub struct Probe {
    name: &'static str,
    log: Log,
    fail_close: bool,
}

impl Probe {
    fn open(log: &Log, plan: Plan, name: &'static str) -> Result<Probe, String> {
        if plan.panic_open == Some(name) {
            panic!("{name} panicked while opening");
        }
        if plan.fail_open == Some(name) {
            log.push(format!("fail {name}"));
            return Err(format!("{name} cannot open"));
        }
        log.push(format!("open {name}"));
        Ok(Probe {
            name,
            log: log.clone(),
            fail_close: plan.fail_close.contains(&name),
        })
    }
}

impl Resource for Probe {
    fn close(self) -> Result<(), Error> {
        let fails = self.fail_close.then_some("cannot close");
        common::logged_close(|line| self.log.push(line), self.name, fails)
    }
}

mk_system! {
    /// Three parts; the plan says which fails.
    pub struct Trio(log: &Log, plan: Plan) {
        /// Started first, closed last.
        pub a: Probe = Probe::open(log, plan, "a")?,
        pub b: Probe = Probe::open(log, plan, "b")?,
        pub c: Probe = Probe::open(log, plan, "c")?,
    }
}

fn strings(entries: &[&str]) -> Vec<String> {
    entries.iter().map(|entry| (*entry).to_owned()).collect()
}

#[test]
fn starts_in_order_and_closes_in_reverse() {
    let log = Log::default();
    let trio = Trio::start(&log, Plan::default()).unwrap();
    assert_eq!((trio.a.name, trio.b.name, trio.c.name), ("a", "b", "c"));
    trio.close().unwrap();
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "open c", "close c", "close b", "close a"])
    );
}

#[test]
fn dropping_closes_in_reverse() {
    let log = Log::default();
    drop(Trio::start(&log, Plan::default()).unwrap());
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "open c", "close c", "close b", "close a"])
    );
}

#[test]
fn failing_first_part_starts_nothing() {
    let log = Log::default();
    let plan = Plan {
        fail_open: Some("a"),
        ..Plan::default()
    };
    let error = Trio::start(&log, plan).err().unwrap();
    assert_eq!(
        error.to_string(),
        "resource `Trio.a` failed to open: a cannot open"
    );
    assert_eq!(error.resource(), Some("Trio.a"));
    assert_eq!(log.take(), strings(&["fail a"]));
}

#[test]
fn failing_middle_part_closes_the_first() {
    let log = Log::default();
    let plan = Plan {
        fail_open: Some("b"),
        ..Plan::default()
    };
    let error = Trio::start(&log, plan).err().unwrap();
    assert!(
        matches!(&error, Error::Open { resource, .. } if resource == "Trio.b"),
        "{error:?}"
    );
    assert_eq!(log.take(), strings(&["open a", "fail b", "close a"]));
}

#[test]
fn failing_last_part_closes_the_others_in_reverse() {
    let log = Log::default();
    let plan = Plan {
        fail_open: Some("c"),
        ..Plan::default()
    };
    let error = Trio::start(&log, plan).err().unwrap();
    assert_eq!(
        error.to_string(),
        "resource `Trio.c` failed to open: c cannot open"
    );
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "fail c", "close b", "close a"])
    );
}

#[test]
fn a_close_failing_during_rollback_is_attached_after_the_start_error() {
    let log = Log::default();
    let plan = Plan {
        fail_open: Some("c"),
        fail_close: &["a", "b"],
        ..Plan::default()
    };
    let error = Trio::start(&log, plan).err().unwrap();
    let Error::Rollback {
        error: start,
        close_errors,
    } = &error
    else {
        panic!("expected a rollback, got {error:?}");
    };
    assert_eq!(
        start.to_string(),
        "resource `Trio.c` failed to open: c cannot open"
    );
    let closes: Vec<String> = close_errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        closes,
        [
            "resource `Trio.b` failed to close: b cannot close",
            "resource `Trio.a` failed to close: a cannot close",
        ]
    );
    assert_eq!(
        error.to_string(),
        "resource `Trio.c` failed to open: c cannot open; closing what was already open also \
         failed: resource `Trio.b` failed to close: b cannot close; resource `Trio.a` failed \
         to close: a cannot close"
    );
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "fail c", "close b", "close a"])
    );
}

#[test]
fn one_failing_close_in_a_middle_rollback() {
    let log = Log::default();
    let plan = Plan {
        fail_open: Some("b"),
        fail_close: &["a"],
        ..Plan::default()
    };
    let error = Trio::start(&log, plan).err().unwrap();
    let Error::Rollback { close_errors, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(close_errors.len(), 1);
    assert_eq!(close_errors[0].resource(), Some("Trio.a"));
    assert_eq!(log.take(), strings(&["open a", "fail b", "close a"]));
}

#[test]
fn a_panicking_initializer_closes_the_started_parts_then_goes_on() {
    let log = Log::default();
    let plan = Plan {
        panic_open: Some("c"),
        ..Plan::default()
    };
    let payload = catch_unwind(AssertUnwindSafe(|| Trio::start(&log, plan)))
        .err()
        .unwrap();
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("c panicked while opening")
    );
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "close b", "close a"])
    );
}

#[test]
fn close_tries_every_part_and_reports_every_failure() {
    let log = Log::default();
    let plan = Plan {
        fail_close: &["a", "c"],
        ..Plan::default()
    };
    let trio = Trio::start(&log, plan).unwrap();
    let Err(Error::CloseAll { errors }) = trio.close() else {
        panic!("expected CloseAll")
    };
    let names: Vec<_> = errors.iter().map(Error::resource).collect();
    assert_eq!(names, [Some("Trio.c"), Some("Trio.a")]);
    assert_eq!(
        log.take(),
        strings(&["open a", "open b", "open c", "close c", "close b", "close a"])
    );
}

/// A part that uses a parameter and earlier parts.
pub struct Handler {
    description: String,
    log: Log,
}

impl Resource for Handler {
    fn close(self) -> Result<(), Error> {
        self.log.push(format!("close handler {}", self.description));
        Ok(())
    }
}

mk_system! {
    struct Service(log: &Log, port: u16) {
        db: Probe = Probe::open(log, Plan::default(), "db")?,
        cache: Probe = Probe::open(log, Plan::default(), "cache")?,
        handler: Handler = Handler {
            description: format!("{}+{}@{port}", db.name, cache.name),
            log: log.clone(),
        },
    }
}

#[test]
fn initializers_see_parameters_and_earlier_parts() {
    let log = Log::default();
    let mut service = Service::start(&log, 8080).unwrap();
    assert_eq!(service.handler.description, "db+cache@8080");
    service.handler.description.push('!'); // DerefMut to the parts
    drop(service);
    assert_eq!(
        log.take(),
        strings(&[
            "open db",
            "open cache",
            "close handler db+cache@8080!",
            "close cache",
            "close db"
        ])
    );
}

mk_system! {
    /// A system with a system inside.
    pub struct Outer(log: &Log, inner_plan: Plan) {
        pub first: Probe = Probe::open(log, Plan::default(), "first")?,
        pub inner: Trio = Trio::start(log, inner_plan)?,
        pub last: Probe = Probe::open(log, Plan::default(), "last")?,
    }
}

#[test]
fn systems_nest() {
    let log = Log::default();
    let outer = Outer::start(&log, Plan::default()).unwrap();
    assert_eq!(outer.inner.b.name, "b");
    outer.close().unwrap();
    assert_eq!(
        log.take(),
        strings(&[
            "open first",
            "open a",
            "open b",
            "open c",
            "open last",
            "close last",
            "close c",
            "close b",
            "close a",
            "close first",
        ])
    );
}

#[test]
fn a_failing_inner_system_rolls_back_itself_and_the_outer() {
    let log = Log::default();
    let plan = Plan {
        fail_open: Some("b"),
        ..Plan::default()
    };
    let error = Outer::start(&log, plan).err().unwrap();
    assert_eq!(
        error.to_string(),
        "resource `Outer.inner` failed to open: resource `Trio.b` failed to open: b cannot open"
    );
    assert_eq!(
        log.take(),
        strings(&["open first", "open a", "fail b", "close a", "close first"])
    );
}

#[test]
fn a_system_is_a_resource_of_with_resources() {
    let log = Log::default();
    let result = with_resources!([trio = Trio::start(&log, Plan::default())?, after = Probe::open(&log, Plan::default(), "after")?] {
        format!("{}{}", trio.c.name, after.name)
    });
    assert_eq!(result.unwrap(), "cafter");
    assert_eq!(
        log.take(),
        strings(&[
            "open a",
            "open b",
            "open c",
            "open after",
            "close after",
            "close c",
            "close b",
            "close a"
        ])
    );
}

mk_system! {
    struct Empty {}
}

#[test]
fn an_empty_system_starts_and_closes() {
    Empty::start().unwrap().close().unwrap();
}

mod renamed {
    //! `crate = path` for a renamed dependency, and parts that are states and closeables.
    extern crate lifecycle as lc;

    lc::mk_system! {
        crate = lc;
        pub struct Renamed(start: u32) {
            pub counter: lc::State<u32> = lc::State::new("system::renamed::counter", move || Ok(start)),
            pub scratch: lc::Closeable<Vec<u8>> = lc::closeable(Vec::new(), |_| ()),
        }
    }

    #[test]
    fn works_with_a_renamed_crate() {
        let mut system = Renamed::start(41).unwrap();
        assert_eq!(*system.counter.get() + 1, 42);
        system.scratch.push(1);
        assert!(system.counter.is_realized());
        let counter_name = system.counter.name().to_owned();
        system.close().unwrap();
        assert!(lc::status()
            .iter()
            .all(|state| state.name() != counter_name));
    }
}

mod no_allocation {
    //! Systems allocate nothing of their own: starting, closing and dropping a (nested)
    //! system whose parts do not allocate performs no allocation at all.
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting;

    thread_local! {
        static COUNTING: Cell<bool> = const { Cell::new(false) };
        static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: every call goes straight to the system allocator; counting touches only
    // `const` thread-locals without destructors, which never allocate.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if COUNTING.with(Cell::get) {
                COUNT.with(|count| count.set(count.get() + 1));
            }
            // SAFETY: forwarded with the caller's layout.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded with the caller's pointer and layout.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            if COUNTING.with(Cell::get) {
                COUNT.with(|count| count.set(count.get() + 1));
            }
            // SAFETY: forwarded with the caller's pointer, layout and size.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    /// Allocations made by `f` on this thread.
    fn allocations(f: impl FnOnce()) -> usize {
        COUNT.with(|count| count.set(0));
        COUNTING.with(|counting| counting.set(true));
        f();
        COUNTING.with(|counting| counting.set(false));
        COUNT.with(Cell::get)
    }

    static CLOSED: AtomicUsize = AtomicUsize::new(0);

    /// A part that allocates nothing.
    pub struct Port(u16);

    impl Port {
        fn open(port: u16) -> Result<Port, Error> {
            Ok(Port(port))
        }
    }

    impl Resource for Port {
        fn close(self) -> Result<(), Error> {
            CLOSED.fetch_add(usize::from(self.0 > 0), Ordering::Relaxed);
            Ok(())
        }
    }

    mk_system! {
        pub struct Inner(port: u16) {
            pub x: Port = Port::open(port)?,
            pub y: Port = Port(x.0 + 1),
        }
    }

    mk_system! {
        pub struct Big(port: u16) {
            pub a: Port = Port::open(port)?,
            pub inner: Inner = Inner::start(a.0 + 1)?,
            pub b: Option<Port> = Some(Port(inner.y.0 + 1)),
            pub c: (Port, Port) = (Port(1), Port(2)),
        }
    }

    #[test]
    fn counting_sees_allocations() {
        let count = allocations(|| drop(std::hint::black_box(Box::new(1))));
        assert_eq!(count, 1);
    }

    #[test]
    fn start_close_and_drop_do_not_allocate() {
        let before = CLOSED.load(Ordering::Relaxed);
        let count = allocations(|| {
            let big = Big::start(10).unwrap();
            assert_eq!(big.inner.y.0, 12);
            big.close().unwrap();
            let big = Big::start(20).unwrap();
            drop(std::hint::black_box(big));
        });
        assert_eq!(count, 0, "a system allocated");
        assert_eq!(CLOSED.load(Ordering::Relaxed) - before, 12);
    }
}

mod derives {
    use super::*;

    #[derive(Debug, PartialEq)]
    pub struct Port(u16);

    impl Resource for Port {
        fn close(self) -> Result<(), Error> {
            Ok(())
        }
    }

    mk_system! {
        /// `derive`s go on the parts; `Debug` also shows the system as its parts.
        #[derive(Debug, PartialEq)]
        pub struct Ports(first: u16) {
            pub low: Port = Port(first),
            pub high: Port = Port(low.0 + 1),
        }
    }

    #[test]
    fn derive_goes_on_the_parts() {
        let ports = Ports::start(80).unwrap();
        assert_eq!(
            format!("{ports:?}"),
            "PortsParts { low: Port(80), high: Port(81) }"
        );
        let other = Ports::start(80).unwrap();
        assert!(*ports == *other);
    }
}

mod part_names {
    //! Parts may have any name, including those of the generated code's own locals.
    use super::*;

    mk_system! {
        pub struct Odd(value: u8) {
            pub closer: Closeable<u8> = closeable(value, |_| ()),
            pub inner: Closeable<u8> = closeable(**closer + 1, |_| ()),
            pub outcome: Closeable<u8> = closeable(**inner + 1, |_| ()),
        }
    }

    #[test]
    fn parts_named_like_generated_locals() {
        let odd = Odd::start(1).unwrap();
        assert_eq!((*odd.closer, *odd.inner, *odd.outcome), (1, 2, 3));
        odd.close().unwrap();
    }
}
