//! Helpers of the end-to-end tests: run an example binary as a subprocess on a free port,
//! read its output line by line, drive its console through stdin, talk HTTP/1.1 to it over
//! 127.0.0.1 with bounded timeouts, and send it real signals.
//!
//! The program's stdout and stderr share one pipe by default, so lines arrive in the order
//! they were written (a console reply on stdout after the log lines on stderr of what it
//! did); [`Options::separate_streams`] reads them apart, marking stderr lines.
//!
//! Every wait is bounded and generous (the machine may be loaded); a timeout fails the test
//! with everything the program printed.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How long to wait for a line of output, an HTTP answer or an exit before failing.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// The built example `name`: `target/<profile>/examples/<name>`, next to this test's
/// `target/<profile>/deps/<test>-<hash>`. `cargo test` builds examples before running
/// integration tests.
pub fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test`, which builds the examples",
        path.display()
    );
    path
}

/// A port that was free a moment ago (the OS picks it; the listener is closed at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// True if nothing listens on `port` (we can bind it ourselves).
pub fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// A running example.
pub struct Example {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Every line read so far (stdout and stderr; with separate streams, stderr lines are
    /// prefixed with `stderr: `).
    pub output: Vec<String>,
    /// How many of `output` the waits have consumed.
    cursor: usize,
}

pub struct Options<'a> {
    pub args: Vec<String>,
    pub env: Vec<(&'a str, String)>,
    /// A pipe for the console, or no input at all (`</dev/null`).
    pub console: bool,
    /// Read stdout and stderr through pipes of their own, stderr lines prefixed with
    /// `stderr: ` (the order between the two streams is then not kept).
    pub separate_streams: bool,
}

/// One pipe, both ends close-on-exec (the child gets the write end as its stdout/stderr).
fn pipe() -> (std::fs::File, std::fs::File) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: `pipe` writes two new descriptors into the array we pass, which has room for
    // exactly two.
    let made = unsafe { libc::pipe(fds.as_mut_ptr()) };
    assert_eq!(made, 0, "pipe: {}", std::io::Error::last_os_error());
    for fd in fds {
        // SAFETY: `fd` is a descriptor we just created and own; FD_CLOEXEC only marks it so
        // that other test processes spawned meanwhile do not inherit it.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: both descriptors are open, ours, and owned by nothing else from here on.
    unsafe {
        (
            std::fs::File::from_raw_fd(fds[0]),
            std::fs::File::from_raw_fd(fds[1]),
        )
    }
}

impl Example {
    pub fn start(name: &str, options: Options<'_>) -> Example {
        let mut command = Command::new(example_path(name));
        command
            .args(&options.args)
            .env_remove("PORT")
            .env("RUST_LOG", "info")
            .stdin(if options.console {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        for (key, value) in &options.env {
            command.env(key, value);
        }
        let mut streams: Vec<(Box<dyn Read + Send>, &str)> = Vec::new();
        let mut child = if options.separate_streams {
            command.stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = command.spawn().expect("start the example");
            let stdout = child.stdout.take().expect("stdout is piped");
            let stderr = child.stderr.take().expect("stderr is piped");
            streams.push((Box::new(stdout), ""));
            streams.push((Box::new(stderr), "stderr: "));
            child
        } else {
            let (reader, writer) = pipe();
            let second = writer.try_clone().expect("duplicate the pipe");
            command.stdout(writer).stderr(second);
            let child = command.spawn().expect("start the example");
            // Our copies of the write end are gone with `command`: the pipe ends when the
            // program (and anything it spawned) closes its own.
            drop(command);
            streams.push((Box::new(reader), ""));
            child
        };
        let (sender, lines) = mpsc::channel();
        for (stream, prefix) in streams {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if sender.send(format!("{prefix}{line}")).is_err() {
                        break;
                    }
                }
            });
        }
        let stdin = child.stdin.take();
        Example {
            child,
            stdin,
            lines,
            output: Vec::new(),
            cursor: 0,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Types `line` into the console.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("the console is piped");
        writeln!(stdin, "{line}").expect("write to the console");
        stdin.flush().expect("flush the console");
    }

    /// Ends the console's input (like Ctrl-D).
    pub fn close_console(&mut self) {
        self.stdin = None;
    }

    fn read_until(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.output.push(line);
                true
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => false,
        }
    }

    /// Waits for the next line (after the ones already waited for) that contains `needle`,
    /// and returns it.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = self.output[self.cursor..]
                .iter()
                .position(|line| line.contains(needle))
            {
                self.cursor += at + 1;
                return self.output[self.cursor - 1].clone();
            }
            if !self.read_until(deadline) {
                panic!(
                    "no line containing {needle:?} within {PATIENCE:?}; output:\n{}",
                    self.output.join("\n")
                );
            }
        }
    }

    /// Reads whatever arrives within `window` (for asserting something did *not* happen).
    pub fn drain_for(&mut self, window: Duration) {
        let deadline = Instant::now() + window;
        while self.read_until(deadline) {}
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) to the program.
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("a pid fits in pid_t");
        // SAFETY: `kill` takes no pointers; the pid is our own child, which has not been
        // reaped (we still hold its `Child`), so the pid cannot name another process.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill({pid}, {signal}) failed");
    }

    /// Waits for the program to exit and reads the rest of its output.
    pub fn wait_exit(&mut self) -> (ExitStatus, Duration) {
        let began = Instant::now();
        let deadline = began + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the example") {
                let took = began.elapsed();
                // The pipes close at exit: read what is left.
                while self.read_until(Instant::now() + Duration::from_secs(5)) {}
                return (status, took);
            }
            if Instant::now() >= deadline {
                panic!(
                    "the example did not exit within {PATIENCE:?}; output:\n{}",
                    self.output.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The position of the first line containing `needle` in all output so far.
    pub fn position(&self, needle: &str) -> usize {
        self.output
            .iter()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| {
                panic!(
                    "no line containing {needle:?}; output:\n{}",
                    self.output.join("\n")
                )
            })
    }

    /// How many lines so far contain `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.output
            .iter()
            .filter(|line| line.contains(needle))
            .count()
    }

    /// Asserts the needles appear in this order in the output (each at its first occurrence
    /// after the previous one).
    pub fn assert_in_order(&self, needles: &[&str]) {
        let mut from = 0;
        for needle in needles {
            match self.output[from..]
                .iter()
                .position(|line| line.contains(needle))
            {
                Some(at) => from += at + 1,
                None => panic!(
                    "{needle:?} does not follow {:?} in the output:\n{}",
                    &needles[..needles.iter().position(|n| n == needle).unwrap_or(0)],
                    self.output.join("\n")
                ),
            }
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// One HTTP/1.1 request to `127.0.0.1:port` with `Connection: close`, bounded by timeouts.
pub fn request(port: u16, method: &str, path: &str, body: &str) -> std::io::Result<Response> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(20)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let mut head_lines = head.lines();
    let status_line = head_lines.next().ok_or_else(|| invalid("no status line"))?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("bad status line"))?;
    let chunked = head_lines.any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or_else(|| invalid("bad chunked body"))?
    } else {
        body.to_owned()
    };
    Ok(Response { status, body })
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size + 2..)?;
    }
}

/// `GET path`, which must succeed.
pub fn get(port: u16, path: &str) -> Response {
    request(port, "GET", path, "").unwrap_or_else(|error| panic!("GET {path}: {error}"))
}
