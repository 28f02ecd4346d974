//! [`Resource`]: something that is opened, used, and closed — and its implementations for
//! collections, wrappers, tuples, [`Closeable`] values and states.
//!
//! `close` takes the resource by value and may fail. Containers close their elements in
//! reverse order (the last opened is the first closed) and try every element even if some
//! fail; several failures come back together as [`Error::CloseAll`].
//!
//! Imports `error` and `state` (a state is a resource); must not import `scope`, `slot`, `atom`,
//! `shutdown` or `async_state`, which are built on resources.

mod checked;
mod close;
mod closeable;

pub use checked::{resource, Checked};
pub use close::Closer;
pub(crate) use close::{close_error, close_named, close_named_with, close_quietly, CloseFnPtr};
pub use closeable::{closeable, CloseFn, Closeable};

use crate::error::Error;
use crate::state::State;

/// Something that must be closed after use: a connection, a server, a file, a system.
///
/// `close` consumes the resource, so it cannot be used afterwards, and it may fail. The
/// library closes resources in reverse order of opening: in [`with_resources!`], in
/// `mk_system!` systems, in collections, and at shutdown.
///
/// ```
/// use lifecycle::{Error, Resource};
///
/// struct Connection { open: bool }
///
/// impl Resource for Connection {
///     fn close(self) -> Result<(), Error> {
///         if self.open { Ok(()) } else { Err("already closed".into()) }
///     }
/// }
///
/// // A `Vec` closes its elements last to first; every element is tried.
/// let pool = vec![Connection { open: true }, Connection { open: true }];
/// pool.close().unwrap();
/// ```
///
/// For a value whose type you do not own, wrap it: [`closeable(value, |v| ...)`](closeable).
///
/// [`with_resources!`]: https://docs.rs/lifecycle/latest/lifecycle/macro.with_resources.html
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a resource",
    label = "this is not a `lifecycle::Resource`",
    note = "implement `lifecycle::Resource` for `{Self}`: `fn close(self) -> Result<(), lifecycle::Error>`",
    note = "or wrap the value: `lifecycle::closeable(value, |v| cleanup(v))`",
    note = "if the expression returns a `Result`, add `?` to open the resource inside it"
)]
pub trait Resource {
    /// Closes the resource, releasing what it holds.
    fn close(self) -> Result<(), Error>;
}

/// Closes the value if there is one.
impl<R: Resource> Resource for Option<R> {
    fn close(self) -> Result<(), Error> {
        match self {
            Some(resource) => resource.close(),
            None => Ok(()),
        }
    }
}

impl<R: Resource> Resource for Box<R> {
    fn close(self) -> Result<(), Error> {
        (*self).close()
    }
}

/// Closes the elements in reverse order (last to first). Every element is tried even if some
/// fail or panic; one failure is returned as it is, several as [`Error::CloseAll`].
impl<R: Resource> Resource for Vec<R> {
    fn close(mut self) -> Result<(), Error> {
        let mut closer = Closer::new();
        while let Some(resource) = self.pop() {
            closer.close_unnamed(resource);
        }
        closer.finish()
    }
}

/// A state is a resource: closing it stops it (see [`State::stop`]).
impl<T: Send + Sync + 'static> Resource for State<T> {
    fn close(self) -> Result<(), Error> {
        self.stop()
    }
}

/// Nothing to close.
impl Resource for () {
    fn close(self) -> Result<(), Error> {
        Ok(())
    }
}

/// Tuples close their elements last to first, trying every one.
macro_rules! tuple_resource {
    ($($name:ident)+; $($reversed:ident)+) => {
        /// Closes the elements last to first; every element is tried.
        impl<$($name: Resource),+> Resource for ($($name,)+) {
            #[allow(non_snake_case)]
            fn close(self) -> Result<(), Error> {
                let ($($name,)+) = self;
                let mut closer = Closer::new();
                $(closer.close_unnamed($reversed);)+
                closer.finish()
            }
        }
    };
}

tuple_resource!(A; A);
tuple_resource!(A B; B A);
tuple_resource!(A B C; C B A);
tuple_resource!(A B C D; D C B A);
tuple_resource!(A B C D E; E D C B A);
tuple_resource!(A B C D E F; F E D C B A);
tuple_resource!(A B C D E F G; G F E D C B A);
tuple_resource!(A B C D E F G H; H G F E D C B A);

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::rc::Rc;

    type Log = Rc<RefCell<Vec<String>>>;

    struct Probe {
        name: &'static str,
        log: Log,
        fail: bool,
    }

    impl Resource for Probe {
        fn close(self) -> Result<(), Error> {
            self.log.borrow_mut().push(self.name.to_owned());
            if self.fail {
                Err(format!("{} failed", self.name).into())
            } else {
                Ok(())
            }
        }
    }

    fn probe(log: &Log, name: &'static str) -> Probe {
        Probe {
            name,
            log: Rc::clone(log),
            fail: false,
        }
    }

    fn failing(log: &Log, name: &'static str) -> Probe {
        Probe {
            fail: true,
            ..probe(log, name)
        }
    }

    #[test]
    fn vec_closes_in_reverse_and_tries_every_element() {
        let log = Log::default();
        let error = vec![
            probe(&log, "a"),
            failing(&log, "b"),
            probe(&log, "c"),
            failing(&log, "d"),
        ]
        .close()
        .unwrap_err();
        assert_eq!(*log.borrow(), ["d", "c", "b", "a"]);
        match error {
            Error::CloseAll { errors } => {
                let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
                assert_eq!(messages, ["d failed", "b failed"]);
            }
            other => panic!("expected CloseAll, got {other:?}"),
        }
    }

    #[test]
    fn one_failure_is_returned_as_it_is() {
        let log = Log::default();
        let error = vec![probe(&log, "a"), failing(&log, "b")]
            .close()
            .unwrap_err();
        assert_eq!(error.to_string(), "b failed");
    }

    #[test]
    fn tuples_close_last_to_first() {
        let log = Log::default();
        let p = |name| probe(&log, name);
        (p("1"), p("2"), p("3"), p("4"), p("5"), p("6"), p("7"), p("8"))
            .close()
            .unwrap();
        assert_eq!(*log.borrow(), ["8", "7", "6", "5", "4", "3", "2", "1"]);
        (probe(&log, "x"),).close().unwrap();
        assert_eq!(log.borrow().last().map(String::as_str), Some("x"));
    }

    #[test]
    fn option_and_box_forward() {
        let log = Log::default();
        Some(Box::new(probe(&log, "boxed"))).close().unwrap();
        None::<Probe>.close().unwrap();
        assert_eq!(*log.borrow(), ["boxed"]);
    }

    #[test]
    fn a_panicking_element_does_not_stop_the_others() {
        struct Panics;
        impl Resource for Panics {
            fn close(self) -> Result<(), Error> {
                panic!("close blew up")
            }
        }
        let log = Log::default();
        let error = (probe(&log, "first"), Panics, probe(&log, "last"))
            .close()
            .unwrap_err();
        assert_eq!(*log.borrow(), ["last", "first"]);
        assert!(
            matches!(&error, Error::ClosePanicked { message, .. } if message == "close blew up"),
            "{error:?}"
        );
    }
}
