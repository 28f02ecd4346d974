//! The state macros as a program uses them: `#[defstate]`, `lifecycle::decl::defstate!` and
//! `state!`, each option, and what the runtime sees of them (names, places, meta, stop).
//!
//! Tests run on parallel threads of one process with one registry, so each test uses its own
//! states and stops only those (never `lifecycle::stop()`).

// `crate = path`: the tests in `mod renamed` reach the library only as `lc`.
extern crate lifecycle as lc;

use lifecycle::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

mod lazy_start {
    use super::*;

    static STARTS: AtomicUsize = AtomicUsize::new(0);

    #[defstate]
    static COUNTED: usize = STARTS.fetch_add(1, SeqCst) + 1;

    #[test]
    fn starts_on_first_use_once_and_again_after_stop() {
        assert!(!COUNTED.is_realized());
        assert_eq!(STARTS.load(SeqCst), 0, "declaring a state starts nothing");
        assert_eq!(*COUNTED.get(), 1);
        assert_eq!(*COUNTED.get(), 1, "the value is cached");
        COUNTED.stop().unwrap();
        assert!(!COUNTED.is_realized());
        assert_eq!(*COUNTED.get(), 2, "a stopped state starts again");
        COUNTED.stop().unwrap();
    }
}

mod fallible_start {
    use super::*;

    static BROKEN: AtomicBool = AtomicBool::new(true);

    fn configured_port() -> &'static str {
        if BROKEN.load(SeqCst) {
            "eighty"
        } else {
            "80"
        }
    }

    #[defstate]
    static PORT: u16 = configured_port().parse::<u16>()?;

    #[test]
    fn question_mark_makes_the_start_fail_and_a_later_use_retries() {
        let error = PORT.try_get().map(|port| *port).unwrap_err();
        let message = format!("{error}: {}", std::error::Error::source(&error).unwrap());
        assert!(message.contains("PORT"), "{message}");
        assert!(message.contains("invalid digit"), "{message}");
        assert!(!PORT.is_realized());
        BROKEN.store(false, SeqCst);
        assert_eq!(*PORT.get(), 80);
        PORT.stop().unwrap();
    }
}

mod stop_option {
    use super::*;

    static STOPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    // The closure gets the value itself: it can move it into the list.
    #[defstate(stop = |conn| STOPPED.lock().unwrap().push(conn))]
    static CONN: String = "conn-1".to_owned();

    #[test]
    fn a_closure_gets_the_value_by_value() {
        assert_eq!(CONN.get().as_str(), "conn-1");
        assert!(STOPPED.lock().unwrap().is_empty());
        CONN.stop().unwrap();
        assert_eq!(*STOPPED.lock().unwrap(), ["conn-1"]);
        assert!(!CONN.is_realized());
    }

    static FLUSHED: AtomicUsize = AtomicUsize::new(0);

    fn flush(lines: Vec<&'static str>) -> Result<(), std::io::Error> {
        FLUSHED.fetch_add(lines.len(), SeqCst);
        Ok(())
    }

    #[defstate(stop = flush)]
    static LINES: Vec<&'static str> = vec!["a", "b", "c"];

    #[test]
    fn a_function_path_is_called_with_the_value() {
        assert_eq!(LINES.get().len(), 3);
        LINES.stop().unwrap();
        assert_eq!(FLUSHED.load(SeqCst), 3);
    }

    #[defstate(stop = |_: u8| Err("disk full".to_owned()))]
    static FAILS_TO_STOP: u8 = 1;

    #[test]
    fn a_stop_error_is_reported_with_the_state_name() {
        assert_eq!(*FAILS_TO_STOP.get(), 1);
        let error = FAILS_TO_STOP.stop().unwrap_err().to_string();
        assert!(error.contains("FAILS_TO_STOP"), "{error}");
        assert!(error.contains("disk full"), "{error}");
        FAILS_TO_STOP.force_close().unwrap();
        assert!(!FAILS_TO_STOP.is_realized());
    }

    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    struct Noisy;

    impl Drop for Noisy {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, SeqCst);
        }
    }

    #[defstate]
    static WITHOUT_STOP: Noisy = Noisy;

    #[test]
    fn without_stop_the_value_is_dropped() {
        drop(WITHOUT_STOP.get());
        assert_eq!(DROPPED.load(SeqCst), 0);
        WITHOUT_STOP.stop().unwrap();
        assert_eq!(DROPPED.load(SeqCst), 1);
    }
}

mod identity {
    use super::*;

    #[defstate]
    static DEFAULT_NAME: u8 = 0;

    #[defstate(name = "web/server", meta(bucket = "web", owner = "ops"))]
    static NAMED: u8 = 0;

    #[defstate(
        name = "spread over lines",
        meta(
            purpose = "an attribute over several lines: the line is still the static's",
            layout = "kept on several lines by rustfmt because of its length"
        )
    )]
    static SPREAD: u8 = 0;

    /// The line of `static SPREAD` in this file, found in the source so formatting can't
    /// move it under the test's feet.
    fn declared_at() -> u32 {
        let line = include_str!("defstate.rs")
            .lines()
            .position(|line| line.trim_start().starts_with("static SPREAD:"))
            .expect("the declaration is in this file");
        u32::try_from(line + 1).unwrap()
    }

    #[test]
    fn the_default_name_is_module_path_and_static() {
        assert_eq!(
            DEFAULT_NAME.name(),
            concat!(module_path!(), "::DEFAULT_NAME")
        );
        assert_eq!(DEFAULT_NAME.name(), "defstate::identity::DEFAULT_NAME");
    }

    #[test]
    fn name_and_meta_options() {
        assert_eq!(NAMED.name(), "web/server");
        assert_eq!(NAMED.meta("bucket"), Some("web"));
        assert_eq!(NAMED.meta("owner"), Some("ops"));
        assert_eq!(NAMED.meta("missing"), None);
        assert_eq!(
            NAMED.info().meta_pairs(),
            [("bucket", "web"), ("owner", "ops")]
        );
    }

    #[test]
    fn file_line_and_module_are_the_statics() {
        let info = SPREAD.info();
        assert_eq!(info.file(), file!());
        assert_eq!(
            info.line(),
            declared_at(),
            "the line of `static SPREAD`, not of the attribute"
        );
        assert_eq!(info.module(), module_path!());
    }

    #[test]
    fn declared_lists_every_static_state_realized_or_not() {
        let declared = lifecycle::declared();
        let find = |name: &str| declared.iter().find(|d| d.name() == name).copied();
        let spread = find("spread over lines").expect("SPREAD is declared");
        assert_eq!(spread.info().line(), declared_at());
        assert!(!spread.is_realized());
        let _ = *NAMED.get();
        assert!(find("web/server").unwrap().is_realized());
        assert!(find("defstate::identity::DEFAULT_NAME").is_some());
        assert!(
            find("defstate::function_like::CONFIG").is_some(),
            "defstate! states too"
        );
        NAMED.stop().unwrap();
    }
}

mod inside_a_function {
    use super::*;

    #[test]
    fn a_static_state_declared_in_a_function_body() {
        #[defstate(name = "inside a function")]
        static INNER: Vec<u8> = vec![1, 2, 3];

        assert_eq!(INNER.get().len(), 3);
        assert!(lifecycle::declared()
            .iter()
            .any(|d| d.name() == "inside a function"));
        INNER.stop().unwrap();
    }
}

mod carried_over {
    #![deny(non_upper_case_globals)]
    use super::*;

    /// A documented state.
    #[defstate]
    #[allow(non_upper_case_globals)] // carried over, or the `deny` above fails the build
    pub static lower_case: u8 = 7;

    // Carried over, or `no_such_function` would fail the build.
    #[defstate]
    #[cfg(any())]
    static CONFIGURED_OUT: u8 = no_such_function();

    pub(crate) mod nested {
        use super::*;

        #[defstate]
        pub(crate) static VISIBLE: &str = "from a nested module";
    }

    #[test]
    fn attributes_and_visibility_apply_to_the_generated_static() {
        assert_eq!(*lower_case.get(), 7);
        assert_eq!(*nested::VISIBLE.get(), "from a nested module");
        lower_case.stop().unwrap();
        nested::VISIBLE.stop().unwrap();
    }
}

mod dependencies {
    use super::*;

    #[defstate(meta(bucket = "dependencies"))]
    static BASE: u32 = 20;

    #[defstate(meta(bucket = "dependencies"))]
    static DERIVED: u32 = *BASE.get() + 1;

    #[test]
    fn a_state_read_by_another_starts_first_and_stops_last() {
        assert_eq!(*DERIVED.get(), 21);
        let bucket = |info: &lifecycle::StateInfo| info.meta("bucket") == Some("dependencies");
        let order: Vec<String> = lifecycle::status()
            .iter()
            .filter(|info| bucket(info))
            .map(|info| info.name().to_owned())
            .collect();
        assert_eq!(
            order,
            [
                "defstate::dependencies::BASE",
                "defstate::dependencies::DERIVED"
            ]
        );
        let report = lifecycle::stop_where(bucket).unwrap();
        assert_eq!(
            report.stopped,
            [
                "defstate::dependencies::DERIVED",
                "defstate::dependencies::BASE"
            ]
        );
    }
}

mod function_like {
    use super::*;

    static STOPPED: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn note(what: &str) {
        STOPPED.lock().unwrap().push(what.to_owned());
    }

    lifecycle::decl::defstate! {
        /// Configuration, read once.
        pub static CONFIG: String = "db://local".parse::<String>()?;

        /// The connection; the stop binds the value.
        pub(crate) static CONNECTION: (String, u32) = (CONFIG.get().clone(), 1);
        stop((url, id)) => note(&format!("{url}#{id}"));
        name = "connection";
        meta(bucket = "storage");

        static POOL: Vec<u32> = vec![1, 2];
        meta(size = "2");
        stop = |pool| note(&format!("pool of {}", pool.len()));

        static WITH_BLOCK: u8 = 3;
        stop(value) => {
            note(&format!("block {value}"));
            Ok::<(), std::fmt::Error>(())
        }
        name = "with block";
    }

    #[test]
    fn declares_every_state_with_its_clauses() {
        assert_eq!(CONNECTION.get().0, "db://local");
        assert_eq!(CONNECTION.name(), "connection");
        assert_eq!(CONNECTION.meta("bucket"), Some("storage"));
        assert_eq!(CONFIG.name(), "defstate::function_like::CONFIG");
        assert_eq!(POOL.meta("size"), Some("2"));
        assert_eq!(WITH_BLOCK.name(), "with block");
        assert_eq!(*POOL.get(), [1, 2]);
        assert_eq!(*WITH_BLOCK.get(), 3);

        CONNECTION.stop().unwrap();
        POOL.stop().unwrap();
        WITH_BLOCK.stop().unwrap();
        CONFIG.stop().unwrap();
        assert_eq!(
            *STOPPED.lock().unwrap(),
            ["db://local#1", "pool of 2", "block 3"]
        );
    }
}

mod local {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn an_expression_is_a_start_only_state() {
        let line = line!() + 1;
        let answer = state!(41 + 1);
        assert!(!answer.is_realized());
        assert_eq!(*answer.get(), 42);
        let name = answer.name().to_owned();
        assert!(
            name.starts_with(&format!("state@{}:{line}:", file!())),
            "readable default name with file and line: {name}"
        );
        assert_eq!(answer.info().line(), line);
        assert_eq!(answer.info().module(), module_path!());
    }

    #[test]
    fn every_key() {
        let stopped = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&stopped);
        let prefix = String::from("item");
        let items = state! {
            start: vec![format!("{prefix}-1"), format!("{prefix}-2")],
            stop: move |items: Vec<String>| seen.lock().unwrap().extend(items),
            name: "items",
            meta(kind = "list", size = "2"),
        };
        assert_eq!(items.name(), "items");
        assert_eq!(items.meta("kind"), Some("list"));
        assert_eq!(items.get().len(), 2);
        items.stop().unwrap();
        assert_eq!(*stopped.lock().unwrap(), ["item-1", "item-2"]);
        assert_eq!(items.get()[0], "item-1", "the start closure runs again");
    }

    #[test]
    fn question_mark_in_start_and_retry() {
        let text = Arc::new(Mutex::new("x"));
        let shared = Arc::clone(&text);
        let number = state! { start: shared.lock().unwrap().parse::<u8>()? };
        assert!(number.try_get().is_err());
        *text.lock().unwrap() = "7";
        assert_eq!(*number.get(), 7);
    }

    #[test]
    fn dropping_a_realized_local_state_stops_it() {
        let stops = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&stops);
        let state = state! {
            stop: move |_: u8| { counter.fetch_add(1, SeqCst); },
            start: 5_u8,
        };
        assert_eq!(*state.get(), 5);
        drop(state);
        assert_eq!(stops.load(SeqCst), 1);
    }

    #[test]
    fn static_and_local_states_share_one_type() {
        let states: Vec<&State<u8>> = vec![&identity_state::ONE, &identity_state::TWO];
        let local = state!(3_u8);
        let sum: u8 = states.iter().map(|s| *s.get()).sum::<u8>() + *local.get();
        assert_eq!(sum, 6);
    }

    mod identity_state {
        use lifecycle::prelude::*;

        #[defstate]
        pub static ONE: u8 = 1;

        lifecycle::decl::defstate! {
            pub static TWO: u8 = 2;
        }
    }
}

mod renamed {
    // Only `lc` is named here; the expansion snapshots check that no `::lifecycle` path is
    // generated with `crate = ...`.
    use lc::decl;

    #[lc::defstate(crate = lc, name = "renamed/attribute")]
    static ATTRIBUTE: u8 = 1;

    decl::defstate! {
        crate = lc;
        static BLOCK: u8 = 2;
        stop(value) => assert_eq!(value, 2);
    }

    #[test]
    fn crate_option_in_every_form() {
        let local = lc::state! { crate: lc, start: 3_u8, name: "renamed/local" };
        assert_eq!(*ATTRIBUTE.get() + *BLOCK.get() + *local.get(), 6);
        assert_eq!(ATTRIBUTE.name(), "renamed/attribute");
        assert_eq!(local.name(), "renamed/local");
        BLOCK.stop().unwrap();
        ATTRIBUTE.stop().unwrap();
    }
}
