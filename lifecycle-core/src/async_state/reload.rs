//! The async driver of the kernel's reload (`kernel::reload`): an async state's new start,
//! its swap under the stop right, and the stop of a value that is no longer the state's,
//! polled in the caller's task (tasks the start spawns run on the caller's runtime).

use super::core::AsyncCore;
use super::AsyncState;
use crate::error::Error;
use crate::kernel::reload::{Swap, Swapped};
use crate::kernel::phases::Ticket;
use crate::kernel::world;
use crate::kernel::{self, BoxFuture, Granted, Restarted, Want};
use crate::thread::Key;
use std::time::Duration;

impl<T: Send + Sync + 'static> Swap for AsyncCore<T> {
    type Value = T;

    fn key(&self) -> Key {
        AsyncCore::key(self)
    }

    fn start_new(&self) -> BoxFuture<'_, Result<T, Error>> {
        Box::pin(self.run_start())
    }

    fn swap(&self, new: T, timeout: Duration) -> BoxFuture<'_, Swapped<T>> {
        Box::pin(async move {
            let ticket = match self.acquire(Want::Stop { force: false }, None).await {
                Ok(Granted::Stop(ticket)) => ticket,
                Ok(_) => return Swapped::NotRealized(new),
                Err(error) => return Swapped::Failed(error, new),
            };
            let key = self.key();
            // From here to the end no `.await` but the drain's: a reload dropped while it
            // drains gives the phase back below, never with the cell half-swapped.
            let mut phase = Draining {
                core: self,
                ticket,
                done: false,
            };
            self.cell.begin_stop();
            if let Err(error) = self.wait_for_guards(timeout).await {
                self.cell.cancel_stop();
                phase.done = true;
                world::conclude_swap(key, ticket, false);
                return Swapped::Failed(error, new);
            }
            // SAFETY: we hold the stop right (`ticket`), `begin_stop` ran, and
            // `wait_for_guards` saw every guard gone (`readers::inside_anywhere` sums every
            // guard's exits, then its entries): no one reads the slot, and after `take` it is unrealized under
            // our exclusive right, which is what `publish` needs.
            let old = unsafe {
                let old = self.cell.take();
                self.cell.publish(new);
                old
            };
            phase.done = true;
            world::conclude_swap(key, ticket, true);
            Swapped::Old(old)
        })
    }

    fn stop_value(&self, value: T) -> BoxFuture<'_, Option<Error>> {
        Box::pin(self.run_stop(value, kernel::stop_timeout()))
    }
}

/// Gives back the stop right of a swap whose future was dropped while it drained: the
/// value stays (the cell is reopened to readers) and nothing is swapped.
struct Draining<'a, T> {
    core: &'a AsyncCore<T>,
    ticket: Ticket,
    done: bool,
}

impl<T> Drop for Draining<'_, T> {
    fn drop(&mut self) {
        if !self.done {
            self.core.cell.cancel_stop();
            world::conclude_swap(self.core.key(), self.ticket, false);
        }
    }
}

impl<T: Send + Sync + 'static> AsyncState<T> {
    /// Reloads the state, like [`State::reload`](crate::State::reload): starts a new value
    /// beside the old one (readers keep reading the old value meanwhile) and only if that
    /// start succeeds stops the realized dependents, swaps the new value in, stops the old
    /// one and starts the dependents that were running again, against the new value. A
    /// failed new start leaves everything as it was and returns [`Error::Reload`]. An
    /// unrealized state is left alone (the result is empty).
    ///
    /// The new start runs in this task, so the tasks it spawns belong to the caller's runtime.
    pub async fn reload(&self) -> Result<Restarted, Error> {
        kernel::reload::reload(self.core()).await
    }
}
