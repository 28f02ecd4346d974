//! The critical path of a [`Graph`]: the chain of starts that decided when the last start
//! ended, found from the timings on the graph's nodes.
//!
//! Pure data over a snapshot, part of the kernel.
//!
//! Imports only the kernel's `graph`; must not import `state` or `async_state`.

use super::graph::Graph;
use std::collections::HashSet;
use std::time::SystemTime;

impl Graph {
    /// The critical path, as indices into [`nodes`](Self::nodes): the state whose start ended
    /// last, then the dependency its start read that ended last, and so on down to a state
    /// that read nothing timed — like `systemd-analyze critical-chain`. Only nodes with a
    /// [`start_duration`](crate::StateInfo::start_duration) count; empty if none has one.
    ///
    /// ```
    /// use lifecycle::State;
    /// use std::sync::Arc;
    ///
    /// let config = Arc::new(State::new("docs/critical/config", || Ok(8080)));
    /// let c = Arc::clone(&config);
    /// let server = State::new("docs/critical/server", move || Ok(*c.get() + 1));
    /// server.get();
    /// let graph = lifecycle::graph();
    /// let names: Vec<_> = graph.critical_path().iter().map(|&n| graph.nodes[n].name()).collect();
    /// let at = names.iter().position(|n| *n == "docs/critical/server").unwrap();
    /// assert_eq!(names[at + 1], "docs/critical/config");
    /// ```
    pub fn critical_path(&self) -> Vec<usize> {
        let end = |node: usize| {
            let info = &self.nodes[node];
            Some(info.started_at()? + info.start_duration()?)
        };
        let latest = |candidates: &mut dyn Iterator<Item = usize>| {
            candidates
                .filter_map(|node| Some((end(node)?, node)))
                .max_by_key(|(at, node): &(SystemTime, usize)| (*at, usize::MAX - node))
                .map(|(_, node)| node)
        };
        let mut path = Vec::new();
        let mut seen = HashSet::new();
        let mut at = latest(&mut (0..self.nodes.len()));
        while let Some(node) = at.filter(|node| seen.insert(*node)) {
            path.push(node);
            let mut reads = self
                .edges
                .iter()
                .filter(move |(from, _)| *from == node)
                .map(|(_, to)| *to);
            at = latest(&mut reads);
        }
        path
    }
}
