//! SIGHUP under `#[lifecycle::main]` (issue 13): this test binary starts itself as a child
//! with `LIFECYCLE_HANGUP_CHILD=<config file>` and sends it real signals (`kill -HUP`).
//!
//! The child's `config` is `#[defstate(reload)]` and reads the file; `server` (unmarked)
//! reads `config`; `other` (unmarked) reads the file too. A HUP reloads `config` and
//! restarts `server` against the new value; `other` is untouched; a config that fails to
//! start leaves the old value serving and the process alive; SIGTERM still tears down.
//!
//! `harness = false`: this file has its own `main`.

use lifecycle::prelude::*;
use lifecycle::{Error, Event, StateInfo};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const CHILD: &str = "LIFECYCLE_HANGUP_CHILD";

fn read_config() -> Result<u32, Error> {
    let path = std::env::var(CHILD).map_err(Error::other)?;
    let text = std::fs::read_to_string(path)?;
    text.trim().parse::<u32>().map_err(Error::other)
}

#[defstate(reload, name = "config", stop = |n| println!("stop config {n}"))]
static CONFIG: u32 = {
    let n = read_config()?;
    println!("start config {n}");
    n
};

#[defstate(name = "server", stop = |on| println!("stop server {on}"))]
static SERVER: u32 = {
    let on = *CONFIG.get();
    println!("start server {on}");
    on
};

#[defstate(name = "other", stop = |n| println!("stop other {n}"))]
static OTHER: u32 = {
    let n = read_config()?;
    println!("start other {n}");
    n
};

#[lifecycle::main]
fn child_main() -> Result<(), Error> {
    lifecycle::watch("print", |event: &Event, state: &StateInfo| match event {
        Event::Reloaded => println!("event reloaded {}", state.name()),
        Event::ReloadFailed(_) => println!("event reload failed {}", state.name()),
        _ => {}
    });
    SERVER.try_get()?;
    OTHER.try_get()?;
    println!("ready");
    loop {
        std::thread::sleep(Duration::from_millis(100));
        // The old or new value, always there: a reader never sees the state unrealized.
        assert!(CONFIG.is_realized(), "config is realized");
    }
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        return child_main();
    }
    parent();
    println!("hangup: ok");
    ExitCode::SUCCESS
}

struct Run {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Run {
    fn wait_for(&mut self, line: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let from = self.seen.len();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(got) => {
                    let done = got == line;
                    self.seen.push(got);
                    if done {
                        return self.seen[from..].to_vec();
                    }
                }
                Err(_) => panic!("no `{line}` from the child; it said {:#?}", self.seen),
            }
        }
    }

    fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: `kill` with a pid of our own child and a valid signal number.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
}

fn parent() {
    let file = std::env::temp_dir().join(format!("lifecycle-hangup-{}.conf", std::process::id()));
    std::fs::write(&file, "1").unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, &file)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    let mut run = Run {
        child,
        lines,
        seen: Vec::new(),
    };
    assert_eq!(
        run.wait_for("ready"),
        ["start config 1", "start server 1", "start other 1", "ready"]
    );

    // A new config: the new value starts beside the old, the server restarts against it.
    std::fs::write(&file, "2").unwrap();
    run.signal(libc::SIGHUP);
    assert_eq!(
        run.wait_for("event reloaded config"),
        [
            "start config 2",
            "stop server 1",
            "stop config 1",
            "start server 2",
            "event reloaded config"
        ]
    );

    // A broken config: the start fails, nothing else happens, the process lives on.
    std::fs::write(&file, "not a number").unwrap();
    run.signal(libc::SIGHUP);
    assert_eq!(
        run.wait_for("event reload failed config"),
        ["event reload failed config"]
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(run.child.try_wait().unwrap().is_none(), "alive after HUP");

    // Fixed again: the next HUP reloads.
    std::fs::write(&file, "3").unwrap();
    run.signal(libc::SIGHUP);
    assert_eq!(
        run.wait_for("event reloaded config"),
        [
            "start config 3",
            "stop server 2",
            "stop config 2",
            "start server 3",
            "event reloaded config"
        ]
    );

    // SIGTERM still tears down, newest first: `other` was never restarted.
    run.signal(libc::SIGTERM);
    let status = run.child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let rest: Vec<String> = run.lines.iter().collect();
    assert_eq!(rest, ["stop server 3", "stop other 1", "stop config 3"]);
    assert!(
        !run.seen.iter().any(|line| line.starts_with("stop other")
            || line.starts_with("start other") && line != "start other 1"),
        "unmarked states are untouched: {:#?}",
        run.seen
    );
    let _ = std::fs::remove_file(&file);
}
