//! Traits that exist for their compile errors: generated code requires them so that a
//! mistake is reported once, on the user's tokens, in words about `lifecycle` rather than
//! about its internals (`ValueCell`, `Core`, ...).
//!
//! * [`StateValue`]: the value type of a static state must be `Send + Sync + 'static`. The
//!   static's type is written through [`StaticState`] (a projection), so a type that is not
//!   gives one error, ours, and every other use of the (then erroneous) type stays quiet.
//! * [`StopReturn`]: what a stop function may return.
//!
//! Imports only the types it names, from `async_state`, `error` and `state`; must not import
//! `stop_kind` or `private`, which use it.

use crate::async_state::{AsyncCore, AsyncState};
use crate::state::{Core, State};

/// The value type of a state: `Send + Sync + 'static`, because a state is shared between
/// threads (any thread may `get` it, and `stop()` may drop it on another thread).
///
/// Implemented for every such type. For a type that is not, wrap it: `Mutex<T>` (or
/// `RwLock<T>`) makes any `Send` type `Sync`.
#[diagnostic::on_unimplemented(
    message = "a state is shared between threads, so its value must be `Send + Sync`; `{Self}` is not",
    label = "not `Send + Sync`",
    note = "wrap it, as in `std::sync::Mutex<{Self}>`, or use a thread-safe type"
)]
pub trait StateValue: Send + Sync + 'static {}

#[diagnostic::do_not_recommend]
impl<T: Send + Sync + 'static> StateValue for T {}

/// Not public API, used by generated code: the types of a static state over `T`.
pub trait StaticTypes {
    /// `State<T>`.
    type State;
    /// `Core<T>`.
    type Core;
    /// `AsyncState<T>`.
    type AsyncState;
    /// `AsyncCore<T>`.
    type AsyncCore;
}

impl<T: StateValue> StaticTypes for T {
    type State = State<T>;
    type Core = Core<T>;
    type AsyncState = AsyncState<T>;
    type AsyncCore = AsyncCore<T>;
}

/// Not public API, used by generated code: `State<T>`, checking `T` with [`StateValue`].
pub type StaticState<T> = <T as StaticTypes>::State;
/// Not public API, used by generated code: `Core<T>`, checked like [`StaticState`].
pub type StaticCore<T> = <T as StaticTypes>::Core;
/// Not public API, used by generated code: `AsyncState<T>`, checked like [`StaticState`].
pub type StaticAsyncState<T> = <T as StaticTypes>::AsyncState;
/// Not public API, used by generated code: `AsyncCore<T>`, checked like [`StaticState`].
pub type StaticAsyncCore<T> = <T as StaticTypes>::AsyncCore;

pub use crate::state::StopReturn;
