//! Two static states declared under one name: `declared()` lists both, and the runtime warns
//! once per process, naming both places. Its own test binary, because the warning is
//! emitted once per process and this test must be the one to see it.

use lifecycle::prelude::*;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::util::SubscriberInitExt;

mod first {
    use super::*;

    #[defstate(name = "shared/name")]
    pub static ONE: u8 = 1;
}

mod second {
    lifecycle::decl::defstate! {
        pub static TWO: u8 = 2;
        name = "shared/name";
    }
}

#[defstate(name = "unique/name")]
static UNIQUE: u8 = 3;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The line of `needle` in this file.
fn line_of(needle: &str) -> usize {
    include_str!("duplicates.rs")
        .lines()
        .position(|line| line.trim_start().starts_with(needle))
        .expect("the declaration is in this file")
        + 1
}

#[test]
fn two_states_under_one_name_are_listed_and_warned_about() {
    let captured = Captured::default();
    let writer = captured.clone();
    let _subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .set_default();

    let shared: Vec<_> = lifecycle::declared()
        .into_iter()
        .filter(|declaration| declaration.name() == "shared/name")
        .collect();
    assert_eq!(shared.len(), 2, "both are declared: {shared:?}");
    assert_eq!(first::ONE.name(), second::TWO.name());
    assert_eq!(*first::ONE.get() + *second::TWO.get() + *UNIQUE.get(), 6);

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let warnings: Vec<&str> = output
        .lines()
        .filter(|line| line.contains("WARN"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning, for the one shared name: {output}"
    );
    let warning = warnings[0];
    assert!(warning.contains("shared/name"), "{warning}");
    for place in [line_of("pub static ONE"), line_of("pub static TWO")] {
        assert!(
            warning.contains(&format!("tests/duplicates.rs:{place}")),
            "the warning names both places ({place}): {warning}"
        );
    }
}
