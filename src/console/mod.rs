//! **The console of the reloaded workflow: type `restart config` into a running program.**
//! (Feature `console`.)
//!
//! ```
//! use lifecycle::prelude::*;
//! use lifecycle::console::Console;
//!
//! #[defstate(name = "app/config")]
//! static PORT: u16 = 8888;
//! #[defstate(name = "app/cache")]
//! static CACHE: Vec<u16> = vec![*PORT.get()];         // reads the config: depends on it
//!
//! let console = Console::new()
//!     .state(&PORT)                                    // restartable by name
//!     .main(&CACHE)                                    // what `start`/`restart` act on
//!     .command("port", "the port in use", |_args| Ok(PORT.get().to_string()));
//!
//! assert_eq!(console.execute_blocking("start").text(), "started app/config, app/cache");
//! assert_eq!(console.execute_blocking("port").text(), "8888");
//! // The cache depended on the config: it is stopped first and comes back after.
//! assert_eq!(console.execute_blocking("restart config").text(),
//!            "restarted app/config and app/cache");
//! assert_eq!(console.execute_blocking("stop cache").text(), "stopped app/cache");
//! assert!(console.execute_blocking("quit").is_quit());  // stops every state
//! ```
//!
//! In a program, [`Console::run`] (sync, on the calling thread), [`Console::spawn`] (sync, on
//! a thread of its own) or [`Console::run_async`] (in async code) read commands from stdin
//! until `quit` or the end of input.
//!
//! # Commands
//!
//! | command | what it does |
//! |---|---|
//! | `status` | the active states in realization order, then each part's own line |
//! | `start [name]` | starts the main part (or every part, without one), or the part `name` |
//! | `stop` | stops every state, newest first |
//! | `stop name` | stops what depends on `name` (newest first), then `name` |
//! | `restart [name]` | restarts the main part, or `name`; the parts that were running and were stopped with it are started again |
//! | `graph` | the dependency graph in Graphviz DOT, nodes labelled with start times, the critical path in red |
//! | `blame` | [`lifecycle::startup_report()`](crate::startup_report()): each start's time, slowest first, and the critical chain |
//! | `health [names]` | [`lifecycle::health()`](crate::health()), or [`health_of(names)`](crate::health_of()) |
//! | `help` | the commands, the program's own included |
//! | `quit` (`exit`) | stops every state, newest first; the run ends with [`Ended::Quit`] |
//!
//! # Details
//!
//! - A name is a full state name or a unique last segment of it: `store` for `notes/store`,
//!   `CONFIG` for `app::CONFIG`. An ambiguous one is an error listing the candidates.
//! - `stop name` takes any active state; `start` and `restart` take the [parts](Part)
//!   registered with [`state`](Console::state) or [`main`](Console::main), since starting
//!   needs the state itself, not only its name.
//! - After `start`, `stop` and `restart` the console says what started and what stopped,
//!   from the runtime's own events ([`watch`](crate::watch)), whichever way the runtime went
//!   about it: `restarted app/config and app/cache`.
//! - The program's own commands ([`command`](Console::command),
//!   [`command_async`](Console::command_async)) are listed by `help`; one named like a
//!   built-in replaces it.
//! - Replies go to stdout; logs stay wherever the program sends them (stderr, for
//!   `tracing-subscriber`'s default), so the two never interleave within a line.
//! - End of input (Ctrl-D, `</dev/null`, a service manager) ends the run with
//!   [`Ended::EndOfInput`] and stops nothing: the program decides whether to go on serving.
//! - Nothing typed ends the program but `quit`; mistakes get `help`.
//! - A sync state's start, stop and restart block: in the async console they run on tokio's
//!   blocking threads, so the program keeps serving while a stop waits for its guards.
//!
//! # Dependencies
//!
//! The feature brings in tokio (`sync`, `rt`): the async console's line channel, and
//! `spawn_blocking`, so a sync state's stop, which may wait for guards, never blocks an async
//! thread. The sync console uses neither runtime nor reactor.
//!
//! The module owns the command engine (`engine`), name lookup (`names`), the record of what
//! changed (`events`) and the input loops (`input`). Imports only the runtime (through the
//! crate root) and tokio; must not import `server` or `admin`, which are built on it.

pub(crate) mod engine;
pub(crate) mod events;
mod input;
mod names;
mod part;

pub use part::{BoxFuture, Part, Said};

use crate::Error;
use events::Recorder;
use std::future::Future;

/// The console: the built-in commands over the registered parts, and the program's own.
pub struct Console {
    parts: Vec<&'static dyn Part>,
    main: Option<&'static dyn Part>,
    commands: Vec<Command>,
    recorder: Recorder,
}

struct Command {
    name: String,
    help: String,
    run: Handler,
}

type SyncHandler = Box<dyn Fn(&[&str]) -> Result<String, Error> + Send + Sync>;
type AsyncHandler = Box<dyn Fn(Vec<String>) -> BoxFuture<Result<String, Error>> + Send + Sync>;

enum Handler {
    Sync(SyncHandler),
    Async(AsyncHandler),
}

/// What the console says to one command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    text: String,
    quit: bool,
}

impl Reply {
    fn say(text: String) -> Reply {
        Reply { text, quit: false }
    }

    fn quit(text: String) -> Reply {
        Reply { text, quit: true }
    }

    /// The answer, one or more lines without a final newline; empty for an empty line.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True after `quit`: every state is stopped and the console's run ends.
    pub fn is_quit(&self) -> bool {
        self.quit
    }
}

/// How a console's run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// `quit`: every state is stopped.
    Quit,
    /// The end of input: nothing was stopped; the program decides what comes next.
    EndOfInput,
}

impl Default for Console {
    fn default() -> Self {
        Console::new()
    }
}

impl Console {
    /// A console with the built-in commands and no parts.
    pub fn new() -> Console {
        Console {
            parts: Vec::new(),
            main: None,
            commands: Vec::new(),
            recorder: Recorder::new(),
        }
    }

    /// Registers a part (a static [`State`](crate::State) or
    /// [`AsyncState`](crate::AsyncState), or any [`Part`]) that `start`, `stop` and `restart`
    /// accept by name.
    #[must_use]
    pub fn state(mut self, part: &'static impl Part) -> Console {
        self.parts.push(part);
        self
    }

    /// Registers the main part — the one `start` and a bare `restart` act on (a server,
    /// typically) — and makes it restartable by name like [`state`](Console::state).
    #[must_use]
    pub fn main(mut self, part: &'static impl Part) -> Console {
        self.parts.push(part);
        self.main = Some(part);
        self
    }

    /// Adds the program's own command `name` (listed by `help` with `help_text`); `run` gets
    /// the words after the name and returns the reply or an error.
    #[must_use]
    pub fn command(
        mut self,
        name: impl Into<String>,
        help_text: impl Into<String>,
        run: impl Fn(&[&str]) -> Result<String, Error> + Send + Sync + 'static,
    ) -> Console {
        self.push(name.into(), help_text.into(), Handler::Sync(Box::new(run)));
        self
    }

    /// Like [`command`](Console::command), for an async command: `run` gets the words after
    /// the name, owned, and returns a future of the reply.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let console = lifecycle::console::Console::new().command_async(
    ///     "echo", "say the words back",
    ///     |words| async move { Ok(words.join(" ")) },
    /// );
    /// assert_eq!(console.execute("echo hello there").await.text(), "hello there");
    /// # }
    /// ```
    #[must_use]
    pub fn command_async<F>(
        mut self,
        name: impl Into<String>,
        help_text: impl Into<String>,
        run: impl Fn(Vec<String>) -> F + Send + Sync + 'static,
    ) -> Console
    where
        F: Future<Output = Result<String, Error>> + Send + 'static,
    {
        let run: AsyncHandler = Box::new(move |words| Box::pin(run(words)));
        self.push(name.into(), help_text.into(), Handler::Async(run));
        self
    }

    /// True if a part named `name` (in full) is registered.
    #[cfg_attr(not(feature = "admin"), allow(dead_code))]
    pub(crate) fn has_part(&self, name: &str) -> bool {
        self.parts.iter().any(|part| part.name() == name)
    }

    fn push(&mut self, name: String, help: String, run: Handler) {
        self.commands.retain(|own| own.name != name);
        self.commands.push(Command { name, help, run });
    }

    /// [`execute`](Console::execute) for sync code: runs the command on this thread. Not for
    /// async code (it would block the executor's thread): `.await` `execute` there.
    pub fn execute_blocking(&self, line: &str) -> Reply {
        crate::__private::block_on(self.execute(line))
    }
}
