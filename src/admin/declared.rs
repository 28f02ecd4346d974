//! Every declared static state as a console [`Part`], so the page can start, stop and restart
//! any `#[defstate]` by name without the program registering each one.
//!
//! Imports `console` (its `Part` and its engine's dependents search) and the runtime
//! (`Declaration`, `Error`, `declared`, `stop_async_where`, through the crate root); nothing
//! imports it back (`console` and `server` must not import `admin`).

use crate::console::engine::dependents_of;
use crate::console::{BoxFuture, Part, Said};
use crate::{Declaration, Error};
use std::sync::OnceLock;

/// A declared state as a part.
pub(super) struct Declared(Declaration);

/// The declared states, made once per process (the set is fixed at link time), so the
/// `&'static` parts the console needs cost nothing per router.
pub(super) fn parts() -> impl Iterator<Item = &'static Declared> {
    static PARTS: OnceLock<Vec<Declared>> = OnceLock::new();
    PARTS
        .get_or_init(|| crate::declared().into_iter().map(Declared).collect())
        .iter()
}

impl Part for Declared {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn is_running(&self) -> bool {
        self.0.is_realized()
    }

    fn start(&'static self) -> BoxFuture<Result<Said, Error>> {
        Box::pin(async move { self.0.start_async().await.map(|()| None) })
    }

    fn stop(&'static self) -> BoxFuture<Result<Said, Error>> {
        let name = self.0.name();
        Box::pin(async move {
            crate::stop_async_where(|state| state.name() == name)
                .await
                .map(|_| None)
        })
    }

    fn restart(&'static self) -> BoxFuture<Result<Said, Error>> {
        // What read it stops first, as `State::restart_alone` does: nothing keeps a value
        // made from the old one. The console brings back the parts that were running.
        let name = self.0.name();
        Box::pin(async move {
            let dependents = dependents_of(name);
            crate::stop_async_where(|state| dependents.contains(state.name())).await?;
            self.stop().await?;
            self.start().await
        })
    }
}
