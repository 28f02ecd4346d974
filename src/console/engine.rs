//! The commands: one engine, `async`, that both flavours of the console drive (the sync one
//! with the runtime's `block_on`). It parses a line, runs the command and says what happened.
//!
//! Imports the console's `part`, `names` and `events` and the runtime (through the crate root);
//! must not import the input loops (`input`), nor `server` or `admin`, which are built on the
//! console.

use super::events::{self, Change};
use super::names::{self, Resolved};
use super::part::{join_said, Part, Said};
use super::{Console, Handler, Reply};
use crate::Error;
use std::collections::BTreeSet;

/// The built-in commands, as `help` lists them (the program's own follow).
pub(crate) const HELP: &str = "\
commands:
  status          the active states, oldest first
  start [name]    start the program (its main part), or the part `name`
  stop [name]     stop every state, newest first; or `name` and what depends on it
  restart [name]  restart the main part, or `name`; what depended on it comes back
  graph           the dependency graph (Graphviz DOT), with start times
  blame           how long each start took, slowest first, and the critical chain
  health [names]  liveness, readiness (of `names`, or of the states tagged ready)
                  and each state's status, uptime and last error
  help            this list
  quit            stop every state and exit";

impl Console {
    /// Runs one command line and returns what the console says (empty for an empty line).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let console = lifecycle::console::Console::new();
    /// assert!(console.execute("help").await.text().starts_with("commands:"));
    /// assert!(console.execute("quit").await.is_quit());
    /// # }
    /// ```
    pub async fn execute(&self, line: &str) -> Reply {
        let mut words = line.split_whitespace();
        let Some(command) = words.next() else {
            return Reply::say(String::new());
        };
        let args: Vec<&str> = words.collect();
        if let Some(own) = self.commands.iter().find(|own| own.name == command) {
            return Reply::say(answer(match &own.run {
                Handler::Sync(run) => run(&args),
                Handler::Async(run) => run(args.iter().map(|&arg| arg.to_owned()).collect()).await,
            }));
        }
        let name = args.first().copied();
        Reply::say(match command {
            "status" => self.status(),
            "start" => self.start(name).await.text,
            "stop" => self.stop(name).await.text,
            "restart" => self.restart(name).await.text,
            "graph" => crate::graph().to_dot().trim_end().to_owned(),
            "blame" => crate::startup_report().to_string(),
            "health" if args.is_empty() => crate::health().to_string(),
            "health" => crate::health_of(&args).to_string(),
            "help" => self.help(),
            "quit" | "exit" => return Reply::quit(stop_all().await.0),
            other => format!("unknown command `{other}`\n{}", self.help()),
        })
    }

    fn help(&self) -> String {
        let mut help = HELP.to_owned();
        for own in &self.commands {
            help.push_str(&format!("\n  {:<15} {}", own.name, own.help));
        }
        help
    }

    fn status(&self) -> String {
        let states = crate::status();
        let mut lines = if states.is_empty() {
            vec!["no active states".to_owned()]
        } else {
            std::iter::once("active states, oldest first:".to_owned())
                .chain(
                    states
                        .iter()
                        .enumerate()
                        .map(|(at, state)| format!("  {}. {}", at + 1, state.name())),
                )
                .collect()
        };
        lines.extend(self.parts.iter().filter_map(|part| part.describe()));
        lines.join("\n")
    }

    /// The registered part `typed` names, or what to say instead.
    fn part(&self, typed: &str, verb: &str) -> Result<&'static dyn Part, String> {
        let registered: Vec<&str> = self.parts.iter().map(|part| part.name()).collect();
        match names::resolve(typed, &registered) {
            Resolved::One(name) => Ok(*self
                .parts
                .iter()
                .find(|part| part.name() == name)
                .expect("resolved among the parts")),
            Resolved::Several(names) => Err(several(typed, &names)),
            Resolved::None => {
                let active = active_names();
                let active: Vec<&str> = active.iter().map(String::as_str).collect();
                Err(match names::resolve(typed, &active) {
                    Resolved::One(name) => format!(
                        "error: {name} is not registered with the console \
                         (`Console::state`), so it cannot {verb} it"
                    ),
                    _ => format!("error: no state named `{typed}` to {verb}"),
                })
            }
        }
    }

    /// The main part, or every part when none is the main one.
    fn main_parts(&self) -> Vec<&'static dyn Part> {
        match self.main {
            Some(main) => vec![main],
            None => self.parts.clone(),
        }
    }

    pub(crate) async fn start(&self, name: Option<&str>) -> Outcome {
        let targets = match name {
            Some(typed) => match self.part(typed, "start") {
                Ok(part) => vec![part],
                Err(say) => return Outcome::refused(say),
            },
            None => self.main_parts(),
        };
        if targets.is_empty() {
            return Outcome::refused(
                "nothing to start: no parts are registered (`Console::state`)".to_owned(),
            );
        }
        self.recorder.begin();
        let (said, failure) = start_each(targets.iter().copied(), None).await;
        let changes = self.recorder.end();
        let failed = failure.is_some();
        let mut text = lines(summary(&changes, None), said, failure);
        if text.is_empty() {
            let names: Vec<&str> = targets.iter().map(|part| part.name()).collect();
            text = format!("already running: {}", names.join(", "));
        }
        Outcome {
            text,
            changes,
            failed,
            refused: false,
        }
    }

    pub(crate) async fn stop(&self, name: Option<&str>) -> Outcome {
        let Some(typed) = name else {
            self.recorder.begin();
            let (text, failed) = stop_all().await;
            return Outcome {
                text,
                changes: self.recorder.end(),
                failed,
                refused: false,
            };
        };
        let registered: Vec<&str> = self.parts.iter().map(|part| part.name()).collect();
        let active = active_names();
        let known: Vec<&str> = registered
            .iter()
            .copied()
            .chain(active.iter().map(String::as_str))
            .collect();
        let name = match names::resolve(typed, &known) {
            Resolved::One(name) => name.to_owned(),
            Resolved::Several(names) => return Outcome::refused(several(typed, &names)),
            Resolved::None => return Outcome::refused(format!("no active state named `{typed}`")),
        };
        self.recorder.begin();
        // What depends on it stops first (newest first), so nothing keeps running on a
        // state that is gone and brings it back behind the user's back.
        let dependents = dependents_of(&name);
        let mut failure = crate::stop_async_where(|state| dependents.contains(state.name()))
            .await
            .err();
        let mut said = None;
        if failure.is_none() {
            let outcome = match self.parts.iter().find(|part| part.name() == name) {
                Some(part) => part.stop().await,
                None => crate::stop_async_where(|state| state.name() == name)
                    .await
                    .map(|_| None),
            };
            match outcome {
                Ok(line) => said = line,
                Err(error) => failure = Some(error),
            }
        }
        let changes = self.recorder.end();
        let failed = failure.is_some();
        let mut text = lines(summary(&changes, None), said, failure);
        if text.is_empty() {
            text = format!("{name} is not running");
        }
        Outcome {
            text,
            changes,
            failed,
            refused: false,
        }
    }

    pub(crate) async fn restart(&self, name: Option<&str>) -> Outcome {
        let target = match name {
            Some(typed) => match self.part(typed, "restart") {
                Ok(part) => part,
                Err(say) => return Outcome::refused(say),
            },
            None => match self.main {
                Some(main) => main,
                None => {
                    return Outcome::refused(
                        "error: `restart` needs a name: no main part is registered \
                         (`Console::main`)"
                            .to_owned(),
                    )
                }
            },
        };
        // The registered parts running now, oldest first: the ones to bring back if the
        // restart stops them.
        let order = active_names();
        let mut running: Vec<&'static dyn Part> = self
            .parts
            .iter()
            .copied()
            .filter(|part| part.is_running() && part.name() != target.name())
            .collect();
        running.sort_by_key(|part| order.iter().position(|name| name == part.name()));

        self.recorder.begin();
        let (said, failure) = match target.restart().await {
            Ok(said) => {
                let stopped = running.iter().copied().filter(|part| !part.is_running());
                start_each(stopped, said).await
            }
            Err(error) => (None, Some(error)),
        };
        let changes = self.recorder.end();
        let failed = failure.is_some();
        let mut text = lines(summary(&changes, Some(target.name())), said, failure);
        if text.is_empty() {
            text = format!("restarted {}", target.name());
        }
        Outcome {
            text,
            changes,
            failed,
            refused: false,
        }
    }
}

/// What `start`, `stop` or `restart` did: what the console says, the states that started and
/// stopped meanwhile (from the runtime's events), and whether it failed or was refused. The
/// console prints the text; the admin page answers with all of it.
#[derive(Debug)]
#[cfg_attr(not(feature = "admin"), allow(dead_code))]
pub(crate) struct Outcome {
    pub(crate) text: String,
    pub(crate) changes: Vec<Change>,
    /// A start or stop failed, or nothing was done (`refused`).
    pub(crate) failed: bool,
    /// Nothing was done: no such state, or one the console cannot start.
    pub(crate) refused: bool,
}

impl Outcome {
    /// Nothing was done: the name or the request was wrong, and `text` says why.
    fn refused(text: String) -> Outcome {
        Outcome {
            text,
            changes: Vec::new(),
            failed: true,
            refused: true,
        }
    }
}

/// Stops every state, newest first, and says which (and whether a stop failed).
/// Starts `parts` in order, after what was `said` already, until one fails: what they said,
/// and the failure that ended it.
async fn start_each(
    parts: impl Iterator<Item = &'static dyn Part>,
    mut said: Said,
) -> (Said, Option<Error>) {
    for part in parts {
        match part.start().await {
            Ok(line) => said = join_said(said, line),
            Err(error) => return (said, Some(error)),
        }
    }
    (said, None)
}

async fn stop_all() -> (String, bool) {
    match crate::stop_async().await {
        Ok(report) if report.stopped.is_empty() => ("nothing to stop".to_owned(), false),
        Ok(report) => (format!("stopped {}", report.stopped.join(", ")), false),
        Err(error) => (format!("error: {error}"), true),
    }
}

fn active_names() -> Vec<String> {
    crate::status()
        .iter()
        .map(|state| state.name().to_owned())
        .collect()
}

/// Every state whose start read `name`, directly or through others.
pub(crate) fn dependents_of(name: &str) -> BTreeSet<String> {
    let graph = crate::graph();
    let mut found = BTreeSet::new();
    let mut next = vec![name.to_owned()];
    while let Some(name) = next.pop() {
        for dependent in graph.dependents_of(&name) {
            if found.insert(dependent.to_owned()) {
                next.push(dependent.to_owned());
            }
        }
    }
    found.remove(name);
    found
}

fn several(typed: &str, names: &[&str]) -> String {
    format!(
        "error: `{typed}` names several states: {}; type one in full",
        names.join(", ")
    )
}

fn answer(result: Result<String, Error>) -> String {
    match result {
        Ok(text) => text,
        Err(error) => format!("error: {error}"),
    }
}

/// The summary, then what the parts said, then the error, one per line.
fn lines(summary: String, said: Said, failure: Option<Error>) -> String {
    let mut all: Vec<String> = Vec::new();
    all.extend((!summary.is_empty()).then_some(summary));
    all.extend(said);
    all.extend(failure.map(|error| format!("error: {error}")));
    all.join("\n")
}

/// What the changes amount to: `restarted a and b, c; started d; stopped e (not running
/// now)`, with `first` (the restarted state) leading the restarted ones.
fn summary(changes: &[Change], first: Option<&str>) -> String {
    let (stopped, started) = events::split(changes);
    let mut restarted: Vec<&str> = started
        .iter()
        .filter(|name| stopped.contains(name))
        .map(String::as_str)
        .collect();
    if let Some(at) = first.and_then(|first| restarted.iter().position(|name| *name == first)) {
        let first = restarted.remove(at);
        restarted.insert(0, first);
    }
    let only_started: Vec<&str> = started
        .iter()
        .filter(|name| !stopped.contains(name))
        .map(String::as_str)
        .collect();
    let only_stopped: Vec<&str> = stopped
        .iter()
        .filter(|name| !started.contains(name))
        .map(String::as_str)
        .collect();
    let mut parts = Vec::new();
    if let Some((head, rest)) = restarted.split_first() {
        parts.push(if rest.is_empty() {
            format!("restarted {head}")
        } else {
            format!("restarted {head} and {}", rest.join(", "))
        });
    }
    if !only_started.is_empty() {
        parts.push(format!("started {}", only_started.join(", ")));
    }
    if !only_stopped.is_empty() {
        parts.push(format!(
            "stopped {}{}",
            only_stopped.join(", "),
            if first.is_some() {
                " (not running now)"
            } else {
                ""
            }
        ));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(list: &[(&str, bool)]) -> Vec<Change> {
        list.iter()
            .map(|(name, started)| {
                if *started {
                    Change::Started((*name).to_owned())
                } else {
                    Change::Stopped((*name).to_owned())
                }
            })
            .collect()
    }

    #[test]
    fn a_restart_names_the_state_first_then_what_came_back() {
        let seen = changes(&[("s", false), ("c", false), ("c", true), ("s", true)]);
        assert_eq!(summary(&seen, Some("c")), "restarted c and s");
    }

    #[test]
    fn what_did_not_come_back_is_said() {
        let seen = changes(&[("s", false), ("c", false), ("c", true), ("d", true)]);
        assert_eq!(
            summary(&seen, Some("c")),
            "restarted c; started d; stopped s (not running now)"
        );
        assert_eq!(summary(&changes(&[("s", false)]), None), "stopped s");
        assert_eq!(summary(&[], None), "");
    }
}
