//! The input loops: the sync console on the calling thread or a thread of its own, and the
//! async one fed by a reader thread. The sync flavour drives the engine with the runtime's
//! `block_on` (through `__private`), so it needs no async runtime.
//!
//! Imports only the console's `Console`, `Ended` and `Reply` (and through `Console` the engine);
//! must not import `server` or `admin`.

use super::{Console, Ended, Reply};
use std::io::{BufRead, IsTerminal, Write};
use std::thread::JoinHandle;

/// The first line a console prints.
const GREETING: &str = "console: type `help` for commands";

impl Console {
    /// Reads commands from stdin on this thread until `quit` or the end of input; replies go
    /// to stdout. A `>` prompt is shown when stdin is a terminal.
    pub fn run(self) -> Ended {
        let interactive = std::io::stdin().is_terminal();
        self.read_loop(std::io::stdin().lock(), std::io::stdout(), interactive)
    }

    /// [`run`](Console::run) on a thread of its own, named `console`, so the calling thread
    /// goes on (serving, say); join the handle for how it ended.
    ///
    /// # Panics
    /// If the thread cannot be spawned.
    pub fn spawn(self) -> JoinHandle<Ended> {
        std::thread::Builder::new()
            .name("console".to_owned())
            .spawn(move || self.run())
            .expect("spawn the console thread")
    }

    /// Reads commands from `input` until `quit` or its end, writing the replies to `output`:
    /// [`run`](Console::run) over any reader and writer.
    ///
    /// ```
    /// let mut output = Vec::new();
    /// let input = "help\nbogus\nquit\nstatus\n".as_bytes();
    /// let ended = lifecycle::console::Console::new().run_with(input, &mut output);
    /// assert_eq!(ended, lifecycle::console::Ended::Quit);   // `status` was never read
    /// let output = String::from_utf8(output).unwrap();
    /// assert!(output.contains("unknown command `bogus`"));
    /// assert!(!output.contains("no active states"));
    /// ```
    pub fn run_with(self, input: impl BufRead, output: impl Write) -> Ended {
        self.read_loop(input, output, false)
    }

    fn read_loop(self, input: impl BufRead, mut output: impl Write, prompt: bool) -> Ended {
        let _ = writeln!(output, "{GREETING}");
        let mut lines = input.lines();
        loop {
            if prompt {
                let _ = write!(output, "> ");
                let _ = output.flush();
            }
            let Some(Ok(line)) = lines.next() else {
                return Ended::EndOfInput;
            };
            let reply = self.execute_blocking(&line);
            if write_reply(&mut output, &reply) {
                return Ended::Quit;
            }
        }
    }

    /// Reads commands from stdin until `quit` or the end of input, in async code; replies go
    /// to stdout. Stdin is read on a thread of its own, so a read blocked on a terminal never
    /// holds up the runtime or the program's exit.
    pub async fn run_async(self) -> Ended {
        let interactive = std::io::stdin().is_terminal();
        let mut lines = stdin_lines();
        let mut output = std::io::stdout();
        let _ = writeln!(output, "{GREETING}");
        loop {
            if interactive {
                let _ = write!(output, "> ");
                let _ = output.flush();
            }
            let Some(line) = lines.recv().await else {
                return Ended::EndOfInput;
            };
            let reply = self.execute(&line).await;
            if write_reply(&mut output, &reply) {
                return Ended::Quit;
            }
        }
    }
}

/// Writes the reply (if any); true if it ends the run.
fn write_reply(output: &mut impl Write, reply: &Reply) -> bool {
    if !reply.text().is_empty() {
        let _ = writeln!(output, "{}", reply.text());
    }
    let _ = output.flush();
    reply.is_quit()
}

/// The lines of stdin, read on a thread of its own; the channel closes at the end of input.
fn stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (lines, received) = tokio::sync::mpsc::unbounded_channel();
    let reader = std::thread::Builder::new()
        .name("console-input".to_owned())
        .spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { break };
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
    if let Err(error) = reader {
        // No input thread: the channel is closed at once, which reads as the end of input.
        let _ = writeln!(std::io::stderr(), "console: no input thread: {error}");
    }
    received
}
