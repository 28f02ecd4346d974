//! `Debug` and `Display` of states: `#<State@ADDR[name]: value>`; printing never starts one.

use super::State;
use std::fmt;

fn write_state<T: Send + Sync + 'static>(
    state: &State<T>,
    f: &mut fmt::Formatter<'_>,
    value: impl FnOnce(&T, &mut fmt::Formatter<'_>) -> fmt::Result,
) -> fmt::Result {
    write!(f, "#<State@{:p}[{}]: ", state.core(), state.name())?;
    match state.peek() {
        Some(current) => value(&current, f)?,
        None => f.write_str("unrealized")?,
    }
    f.write_str(">")
}

impl<T: Send + Sync + fmt::Debug + 'static> fmt::Debug for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_state(self, f, |value, f| fmt::Debug::fmt(value, f))
    }
}

impl<T: Send + Sync + fmt::Display + 'static> fmt::Display for State<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_state(self, f, |value, f| fmt::Display::fmt(value, f))
    }
}
