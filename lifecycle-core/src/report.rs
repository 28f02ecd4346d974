//! [`startup_report`]: a `systemd-analyze blame`-like table of the last start of every state
//! in the graph, slowest first, with the critical chain.
//!
//! Reads only the public snapshot of `global::graph()` (and the kernel's `Graph`).
//!
//! Imports `global` and `kernel`; must not import the drivers (`state`, `async_state`).

use crate::global::graph;
use crate::kernel::Graph;
use std::fmt;
use std::time::{Duration, SystemTime};

/// One state's last start in a [`StartupReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blame {
    /// The state's name.
    pub name: String,
    /// When its start began.
    pub started_at: SystemTime,
    /// How long the start took, including the time it waited for what it read.
    pub total: Duration,
    /// How long the start took on its own: `total` minus the time the starts it read ran
    /// inside it (the time `systemd-analyze blame` would show).
    pub own: Duration,
    /// When its start began, counted from the first start in the report.
    pub offset: Duration,
}

/// What [`startup_report`] returns: its `Display` is the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartupReport {
    /// Every timed state, slowest `own` time first (then slowest `total`, then by name).
    pub blame: Vec<Blame>,
    /// The critical chain ([`Graph::critical_path`]): the state whose start ended last, then
    /// the dependency it read that ended last, and so on.
    pub critical_chain: Vec<Blame>,
}

/// The timings of the last start of every state in [`graph()`](crate::graph()): a table,
/// slowest first, and the critical chain.
///
/// ```
/// use lifecycle::State;
/// use std::sync::Arc;
///
/// let config = Arc::new(State::new("docs/report/config", || Ok(8080)));
/// let c = Arc::clone(&config);
/// let server = State::new("docs/report/server", move || Ok(*c.get() + 1));
/// server.get();
/// let report = lifecycle::startup_report();
/// assert!(report.blame.iter().any(|b| b.name == "docs/report/config"));
/// println!("{report}");
/// ```
pub fn startup_report() -> StartupReport {
    StartupReport::of(&graph())
}

impl StartupReport {
    /// The report of one graph snapshot.
    pub fn of(graph: &Graph) -> StartupReport {
        let first = graph
            .nodes
            .iter()
            .filter_map(|node| node.started_at())
            .min();
        let blame_of = |at: usize| -> Option<Blame> {
            let node = &graph.nodes[at];
            let (started_at, total) = (node.started_at()?, node.start_duration()?);
            let reads = graph
                .edges
                .iter()
                .filter(|(from, _)| *from == at)
                .filter_map(|(_, to)| {
                    let dep = &graph.nodes[*to];
                    Some((dep.started_at()?, dep.start_duration()?))
                });
            let inside = overlap(started_at, started_at + total, reads);
            Some(Blame {
                name: node.name().to_owned(),
                started_at,
                total,
                own: total.saturating_sub(inside),
                offset: first
                    .and_then(|first| started_at.duration_since(first).ok())
                    .unwrap_or_default(),
            })
        };
        let mut blame: Vec<Blame> = (0..graph.nodes.len()).filter_map(blame_of).collect();
        blame.sort_by(|a, b| {
            (b.own, b.total)
                .cmp(&(a.own, a.total))
                .then_with(|| a.name.cmp(&b.name))
        });
        let critical_chain = graph
            .critical_path()
            .into_iter()
            .filter_map(blame_of)
            .collect();
        StartupReport {
            blame,
            critical_chain,
        }
    }
}

/// How much of `[begin, end)` the intervals `reads` cover (their union, clipped).
fn overlap(
    begin: SystemTime,
    end: SystemTime,
    reads: impl Iterator<Item = (SystemTime, Duration)>,
) -> Duration {
    let mut spans: Vec<(SystemTime, SystemTime)> = reads
        .map(|(at, took)| (at.max(begin), (at + took).min(end)))
        .filter(|(from, to)| from < to)
        .collect();
    spans.sort();
    let mut covered = Duration::ZERO;
    let mut reached = begin;
    for (from, to) in spans {
        let from = from.max(reached);
        if to > from {
            covered += to.duration_since(from).unwrap_or_default();
            reached = to;
        }
    }
    covered
}

fn ms(took: Duration) -> String {
    format!("{:.1} ms", took.as_secs_f64() * 1000.0)
}

impl fmt::Display for StartupReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.blame.is_empty() {
            return f.write_str("no timed starts");
        }
        writeln!(f, "{:>10} {:>10}  state", "own", "total")?;
        for entry in &self.blame {
            writeln!(
                f,
                "{:>10} {:>10}  {}",
                ms(entry.own),
                ms(entry.total),
                entry.name
            )?;
        }
        f.write_str("critical chain (@ began after the first start, + took):")?;
        for (depth, entry) in self.critical_chain.iter().enumerate() {
            let indent = match depth {
                0 => String::new(),
                n => format!("{}└─ ", "   ".repeat(n - 1)),
            };
            write!(
                f,
                "\n{indent}{} @{} +{}",
                entry.name,
                ms(entry.offset),
                ms(entry.total)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_counts_the_union_inside_the_interval() {
        let t = SystemTime::UNIX_EPOCH;
        let ms = Duration::from_millis;
        let reads = [
            (t + ms(10), ms(20)),
            (t + ms(20), ms(20)),
            (t + ms(90), ms(50)),
        ];
        assert_eq!(overlap(t, t + ms(100), reads.into_iter()), ms(40));
        assert_eq!(overlap(t, t + ms(5), reads.into_iter()), Duration::ZERO);
    }
}
