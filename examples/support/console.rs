//! The console on stdin: the REPL of the reloaded workflow.
//!
//! | command | what it does |
//! |---|---|
//! | `status` | the active states in realization order, and the application's own line |
//! | `start` | starts the application (what it needs starts on first use) |
//! | `stop [name]` | stops every state, newest first (`lifecycle::stop_async`), or only the server, or the state `name` |
//! | `restart [name]` | restarts the server, or the named state and what depends on it |
//! | `graph` | the dependency graph in Graphviz DOT |
//! | `help` | this list |
//! | `quit` | stops every state, newest first, and exits with status 0 |
//!
//! An unknown command prints the list instead; nothing a user types ends the program except
//! `quit`.
//!
//! **End of input closes the console, not the program.** A program started without console
//! input — `</dev/null`, under CI, by a service manager — keeps serving until SIGINT or
//! SIGTERM, which stop everything in reverse order. So Ctrl-D in a terminal detaches the
//! console; `quit` (or Ctrl-C) ends the program.

use std::io::{IsTerminal, Write};
use tokio::sync::mpsc;

/// What the console drives.
pub trait App {
    /// The application's line in `status`, e.g. `server: running on port 8888`.
    fn describe(&self) -> String;
    /// `start`: starts the application; says what it did.
    async fn start(&self) -> Result<String, lifecycle::Error>;
    /// The names the server answers to in `stop`/`restart` (its state name and a short one).
    fn server_names(&self) -> &[&str];
    /// `stop server`: stops the server alone.
    async fn stop_server(&self) -> Result<String, lifecycle::Error>;
    /// `restart` (no name): restarts the server.
    async fn restart_server(&self) -> Result<String, lifecycle::Error>;
    /// `restart <name>`: restarts that state and what depends on it.
    async fn restart_state(&self, name: &str) -> Result<String, lifecycle::Error>;
}

/// How the console ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// `quit`: every state is stopped.
    Quit,
    /// End of input: the program goes on serving.
    EndOfInput,
}

pub const HELP: &str = "\
commands:
  status          the active states, oldest first
  start           start the application
  stop [name]     stop every state, newest first; or the server, or the state `name`
  restart [name]  restart the server, or the state `name` and what depends on it
  graph           the dependency graph (Graphviz DOT)
  help            this list
  quit            stop every state and exit";

/// Reads commands until `quit` or the end of input.
pub async fn run(app: &impl App) -> Ended {
    let mut lines = stdin_lines();
    let interactive = std::io::stdin().is_terminal();
    println!("console: type `help` for commands");
    loop {
        if interactive {
            print!("> ");
            let _ = std::io::stdout().flush();
        }
        let Some(line) = lines.recv().await else {
            return Ended::EndOfInput;
        };
        let mut words = line.split_whitespace();
        let Some(command) = words.next() else {
            continue;
        };
        let argument = words.next();
        match command {
            "status" => status(app),
            "start" => report(app.start().await),
            "stop" => report(match argument {
                None => stop_all().await,
                Some(name) if app.server_names().contains(&name) => app.stop_server().await,
                Some(name) => stop_one(name).await,
            }),
            "restart" => report(match argument {
                None => app.restart_server().await,
                Some(name) => app.restart_state(name).await,
            }),
            "graph" => print!("{}", lifecycle::graph().to_dot()),
            "help" => println!("{HELP}"),
            "quit" | "exit" => {
                report(stop_all().await);
                return Ended::Quit;
            }
            other => println!("unknown command `{other}`\n{HELP}"),
        }
    }
}

/// Stops every state, newest first, and says which.
pub async fn stop_all() -> Result<String, lifecycle::Error> {
    let report = lifecycle::stop_async().await?;
    Ok(if report.stopped.is_empty() {
        "nothing to stop".to_owned()
    } else {
        format!("stopped {}", report.stopped.join(", "))
    })
}

/// Stops the active state `name` alone (what depends on it keeps running).
async fn stop_one(name: &str) -> Result<String, lifecycle::Error> {
    let report = lifecycle::stop_async_where(|state| state.name() == name).await?;
    Ok(if report.stopped.is_empty() {
        format!("no active state named `{name}`")
    } else {
        format!("stopped {name}")
    })
}

fn status(app: &impl App) {
    let states = lifecycle::status();
    if states.is_empty() {
        println!("no active states");
    } else {
        println!("active states, oldest first:");
        for (at, state) in states.iter().enumerate() {
            println!("  {}. {}", at + 1, state.name());
        }
    }
    println!("{}", app.describe());
}

fn report(result: Result<String, lifecycle::Error>) {
    match result {
        Ok(message) => println!("{message}"),
        Err(error) => println!("error: {error}"),
    }
}

/// The lines of stdin, read on a thread of their own: a read blocked on a terminal never holds
/// up the runtime or the exit. The channel closes at the end of input.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (lines, received) = mpsc::unbounded_channel();
    let reader = std::thread::Builder::new()
        .name("console".to_owned())
        .spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
    if let Err(error) = reader {
        tracing::warn!("no console: {error}");
    }
    received
}
