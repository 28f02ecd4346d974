//! `Debug` and `Display` of states, sync and async: `#<State@ADDR[name]: value>` (and
//! `#<AsyncState@…>`); printing never starts one. `async_state/` uses [`printed_as_state`].
//! Their guards print as the value they hold ([`printed_as_value`]).
//!
//! Imports only its parent `state`; must not import `async_state` or the resources built on states
//! (`resource`, `scope`, `slot`, `atom`, `shutdown`).

use super::State;
use std::fmt;
use std::ops::Deref;

/// Writes `#<{kind}@{core:p}[{name}]: ` then the current value with `value`, or
/// `unrealized`, then `>`.
pub(crate) fn write_state<C, V: Deref>(
    f: &mut fmt::Formatter<'_>,
    kind: &str,
    core: &C,
    name: &str,
    current: Option<V>,
    value: impl FnOnce(&V::Target, &mut fmt::Formatter<'_>) -> fmt::Result,
) -> fmt::Result {
    write!(f, "#<{kind}@{core:p}[{name}]: ")?;
    match current {
        Some(current) => value(&current, f)?,
        None => f.write_str("unrealized")?,
    }
    f.write_str(">")
}

/// `Debug` and `Display` for a state type with `core()`, `name()` and `peek()`, printed under
/// its own name.
macro_rules! printed_as_state {
    ($state:ident) => {
        impl<T: Send + Sync + ::std::fmt::Debug + 'static> ::std::fmt::Debug for $state<T> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let (core, name) = (self.core(), self.name());
                $crate::state::write_state(f, stringify!($state), core, name, self.peek(), |v, f| {
                    ::std::fmt::Debug::fmt(v, f)
                })
            }
        }

        impl<T: Send + Sync + ::std::fmt::Display + 'static> ::std::fmt::Display for $state<T> {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let (core, name) = (self.core(), self.name());
                $crate::state::write_state(f, stringify!($state), core, name, self.peek(), |v, f| {
                    ::std::fmt::Display::fmt(v, f)
                })
            }
        }
    };
}
pub(crate) use printed_as_state;

/// `Debug` and `Display` for a guard type (`Ref`, `Owned`, `AsyncRef`): those of the value
/// it derefs to. `$t: $bound` is the guard's type parameter with the guard's own bounds.
macro_rules! printed_as_value {
    ($guard:ty, $t:ident: $($bound:tt)+) => {
        impl<$t: $($bound)+ + ::std::fmt::Debug> ::std::fmt::Debug for $guard {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$t: $($bound)+ + ::std::fmt::Display> ::std::fmt::Display for $guard {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&**self, f)
            }
        }
    };
}
pub(crate) use printed_as_value;

printed_as_state!(State);
