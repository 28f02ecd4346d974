//! A user crate that denies every warning and clippy's pedantic group stays clean with every
//! macro form: the expansion brings no lint of its own. `cargo clippy --all-targets` checks
//! this file; `cargo test` checks the rustc half.
#![deny(warnings, clippy::pedantic)]
#![deny(missing_docs, unused_qualifications, unreachable_pub, unsafe_code)]

use lifecycle::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// Lines written so far.
#[defstate(stop = drop, name = "lints/log", meta(bucket = "lints"))]
pub static LOG: Vec<String> = vec!["started".to_owned()];

/// A port parsed at start.
#[defstate(stop = |port| assert_eq!(port, 8080))]
pub static PORT: u16 = "8080".parse::<u16>()?;

/// A borrowed string: elided lifetimes are `'static` in a static's type.
#[defstate]
pub static GREETING: &str = "hello";

lifecycle::decl::defstate! {
    /// Requests served.
    pub static SERVED: AtomicU64 = AtomicU64::new(0);
    stop(served) => assert!(served.into_inner() <= 1);
    name = "lints/served";
    meta(bucket = "lints");

    /// A state that reads another one.
    pub(crate) static BANNER: String = format!("{} on {}", *GREETING.get(), *PORT.get());
    stop = drop;
}

#[test]
fn every_macro_form_is_lint_free() {
    let local = state! {
        start: vec![1_u8, 2, 3],
        stop: drop,
        name: "lints/local",
        meta(bucket = "lints"),
    };
    let first = u64::from(local.get()[0]);
    let plain = state!(first);
    SERVED.get().fetch_add(*plain.get(), Ordering::Relaxed);
    assert_eq!(*BANNER.get(), "hello on 8080");
    assert_eq!(LOG.get().len(), 1);
    for state in [&LOG as &dyn Stoppable, &BANNER, &PORT, &GREETING, &SERVED] {
        state.stop_now();
    }
    local.stop().unwrap();
}

trait Stoppable {
    fn stop_now(&self);
}

impl<T: Send + Sync + 'static> Stoppable for State<T> {
    fn stop_now(&self) {
        self.stop().unwrap();
    }
}
