//! Dependencies between states, recorded when one state's start reads another, with the
//! stop epoch of the value it read (so a restart can tell which dependents hold stale data).
//!
//! Part of the kernel. Imports only `info` and `thread`; must not import `state` or `async_state`.

use crate::info::StateInfo;
use crate::thread::Key;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

/// The recorded dependency graph: which state's start read which other state.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Every state that is realized or appears in an edge.
    pub nodes: Vec<StateInfo>,
    /// `(dependent, dependency)` pairs of indices into `nodes`: the dependent's start read the
    /// dependency.
    pub edges: Vec<(usize, usize)>,
}

impl Graph {
    /// The names of the states `name`'s start read.
    pub fn dependencies_of(&self, name: &str) -> Vec<&str> {
        self.linked(name, |&(from, to)| (from, to))
    }

    /// The names of the states whose start read `name`.
    pub fn dependents_of(&self, name: &str) -> Vec<&str> {
        self.linked(name, |&(from, to)| (to, from))
    }

    /// The names at the far end of the edges whose near end is `name`; `ends` turns an edge
    /// into (near, far).
    fn linked(&self, name: &str, ends: fn(&(usize, usize)) -> (usize, usize)) -> Vec<&str> {
        self.edges
            .iter()
            .map(ends)
            .filter(|&(near, _)| self.nodes[near].name() == name)
            .map(|(_, far)| self.nodes[far].name())
            .collect()
    }

    /// The graph in Graphviz DOT: an edge `"a" -> "b"` means a's start read b. Each node is
    /// labelled with how long its last start took, and the [critical
    /// path](Self::critical_path) is drawn in red.
    ///
    /// ```
    /// let dot = lifecycle::graph().to_dot();
    /// assert!(dot.starts_with("digraph lifecycle {"));
    /// ```
    pub fn to_dot(&self) -> String {
        let critical = self.critical_path();
        let mut dot = String::from("digraph lifecycle {\n    rankdir=LR;\n");
        for (at, node) in self.nodes.iter().enumerate() {
            let name = quote(node.name());
            let style = if critical.contains(&at) {
                ", color=red, penwidth=2"
            } else {
                ""
            };
            match node.start_duration() {
                Some(took) => {
                    // Graphviz's `\n` line break, inside the quoted name.
                    let open = name.strip_suffix('"').unwrap_or(&name);
                    let label = format!("{open}\\n{}\"", millis(took));
                    let _ = writeln!(dot, "    {name} [label={label}{style}];");
                }
                None => {
                    let _ = writeln!(dot, "    {name};");
                }
            }
        }
        let on_path = |(from, to): &(usize, usize)| {
            critical
                .windows(2)
                .any(|pair| pair[0] == *from && pair[1] == *to)
        };
        let edge = |dot: &mut String, indent: &str, (from, to): &(usize, usize)| {
            let (from, to) = (self.nodes[*from].name(), self.nodes[*to].name());
            let _ = writeln!(dot, "{indent}{} -> {};", quote(from), quote(to));
        };
        for pair in self.edges.iter().filter(|pair| !on_path(pair)) {
            edge(&mut dot, "    ", pair);
        }
        if self.edges.iter().any(on_path) {
            dot.push_str("    subgraph critical_path {\n        edge [color=red, penwidth=2];\n");
            for pair in self.edges.iter().filter(|pair| on_path(pair)) {
                edge(&mut dot, "        ", pair);
            }
            dot.push_str("    }\n");
        }
        dot.push_str("}\n");
        dot
    }
}

/// A duration as DOT labels and reports show it: milliseconds with one decimal.
pub(crate) fn millis(took: std::time::Duration) -> String {
    format!("{:.1} ms", took.as_secs_f64() * 1000.0)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The library's copy of the graph, keyed by state.
#[derive(Default)]
pub(crate) struct Edges {
    /// dependent -> its dependencies, in the order first read, each with the stop epoch of
    /// the dependency when it was read.
    dependencies: HashMap<Key, Vec<(Key, u64)>>,
    infos: HashMap<Key, StateInfo>,
}

impl Edges {
    pub(crate) fn record(&mut self, from: (Key, &StateInfo), to: (Key, &StateInfo), epoch: u64) {
        let deps = self.dependencies.entry(from.0).or_default();
        if !deps.iter().any(|(k, _)| *k == to.0) {
            deps.push((to.0, epoch));
        }
        self.infos.entry(from.0).or_insert_with(|| from.1.clone());
        self.infos.entry(to.0).or_insert_with(|| to.1.clone());
    }

    /// Forgets what `key`'s previous start read (it is starting again).
    pub(crate) fn clear_dependencies(&mut self, key: Key) {
        self.dependencies.remove(&key);
    }

    /// Forgets `key` entirely (a local state was dropped).
    pub(crate) fn forget(&mut self, key: Key) {
        self.dependencies.remove(&key);
        self.infos.remove(&key);
        for deps in self.dependencies.values_mut() {
            deps.retain(|(k, _)| *k != key);
        }
    }

    /// Every state whose start read `key`, directly or through others.
    pub(crate) fn dependents(&self, key: Key) -> BTreeSet<Key> {
        let mut found = BTreeSet::new();
        let mut todo = vec![key];
        while let Some(target) = todo.pop() {
            for (dependent, deps) in &self.dependencies {
                let reads = deps.iter().any(|(k, _)| *k == target);
                if reads && *dependent != key && found.insert(*dependent) {
                    todo.push(*dependent);
                }
            }
        }
        found
    }

    /// The info recorded for `key`, if it is in an edge.
    pub(crate) fn info(&self, key: Key) -> Option<&StateInfo> {
        self.infos.get(&key)
    }

    /// The dependents of `key` (directly or through others) whose last start read a value
    /// that has been stopped since: `epoch(k)` is the current stop epoch of `k`.
    pub(crate) fn stale_among(&self, key: Key, epoch: impl Fn(Key) -> u64) -> BTreeSet<Key> {
        self.dependents(key)
            .into_iter()
            .filter(|dependent| {
                self.dependencies
                    .get(dependent)
                    .into_iter()
                    .flatten()
                    .any(|(dep, read)| *read < epoch(*dep))
            })
            .collect()
    }

    /// Reorders `newest_first` (a batch of states to stop, newest realization first) so that
    /// every state comes after the states whose start read it — a dependent always stops
    /// before what it depends on, even when the dependency was stopped and started again on
    /// its own (and so is newer). Otherwise the order is kept. O(batch + edges).
    pub(crate) fn dependents_first<H>(&self, newest_first: Vec<(Key, H)>) -> Vec<(Key, H)> {
        let position: HashMap<Key, usize> = newest_first
            .iter()
            .enumerate()
            .map(|(at, (key, _))| (*key, at))
            .collect();
        // For each batch member, the batch members whose last start read it.
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); newest_first.len()];
        for (dependent, deps) in &self.dependencies {
            let Some(&dependent) = position.get(dependent) else {
                continue;
            };
            for (dep, _) in deps {
                if let Some(&dep) = position.get(dep) {
                    dependents[dep].push(dependent);
                }
            }
        }
        for list in &mut dependents {
            list.sort_unstable(); // newest first among them, too
        }
        // Depth-first, emitting a state after its dependents (iterative: chains may be long).
        let mut order = Vec::with_capacity(newest_first.len());
        let mut seen = vec![false; newest_first.len()];
        for root in 0..newest_first.len() {
            if seen[root] {
                continue;
            }
            seen[root] = true;
            let mut stack = vec![(root, 0)];
            while let Some((at, next)) = stack.last_mut() {
                if let Some(&dependent) = dependents[*at].get(*next) {
                    *next += 1;
                    if !seen[dependent] {
                        seen[dependent] = true;
                        stack.push((dependent, 0));
                    }
                } else {
                    order.push(*at);
                    stack.pop();
                }
            }
        }
        let mut items: Vec<Option<(Key, H)>> = newest_first.into_iter().map(Some).collect();
        order
            .into_iter()
            .filter_map(|at| items[at].take())
            .collect()
    }

    /// A public snapshot; `realized` lists the realized states in realization order, and
    /// `node` makes each node's entry from its key and info.
    pub(crate) fn snapshot(
        &self,
        realized: &[(Key, StateInfo)],
        node: &dyn Fn(Key, &StateInfo) -> StateInfo,
    ) -> Graph {
        let mut graph = Graph::default();
        let mut index: HashMap<Key, usize> = HashMap::new();
        let mut add = |key: Key, info: &StateInfo, graph: &mut Graph| -> usize {
            *index.entry(key).or_insert_with(|| {
                graph.nodes.push(node(key, info));
                graph.nodes.len() - 1
            })
        };
        for (key, info) in realized {
            add(*key, info, &mut graph);
        }
        let mut dependents: Vec<_> = self.dependencies.iter().collect();
        let order: HashMap<Key, usize> = realized
            .iter()
            .enumerate()
            .map(|(at, (key, _))| (*key, at))
            .collect();
        dependents.sort_by_key(|(key, _)| order.get(*key).copied().unwrap_or(usize::MAX));
        for (from, deps) in dependents {
            let from = add(*from, &self.infos[from], &mut graph);
            for (to, _) in deps {
                let to = add(*to, &self.infos[to], &mut graph);
                graph.edges.push((from, to));
            }
        }
        graph
    }
}
