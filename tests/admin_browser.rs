//! The admin page in a real browser: `examples/webapp.rs` runs as a subprocess, headless
//! Chromium loads its `/lifecycle` page, the test clicks `restart` on `webapp/hits`, checks
//! through the program's own status (its event log and `/lifecycle/api/states`) that the
//! state restarted and that the page shows it, and saves a screenshot to
//! `target/admin/admin.png` (README's `docs/admin.png` is a copy of it).
//!
//! Chromium is driven over its DevTools protocol (JSON over a WebSocket): four methods
//! (`Page.navigate`, `Runtime.evaluate`, `Emulation.setDeviceMetricsOverride`,
//! `Page.captureScreenshot`) need no client library beyond a WebSocket.
//!
//! Required when `CI` is set (it fails if Chromium is missing); elsewhere, without Chromium,
//! it prints a loud SKIPPED line and passes.

mod e2e;

use base64::Engine as _;
use e2e::{free_port, get, Example, Options, PATIENCE};
use serde_json::{json, Value};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

const TOKEN: &str = "browser-test-token";

/// Chromium: `$CHROMIUM`, else Debian's `/usr/bin/chromium`.
fn chromium() -> Option<PathBuf> {
    let path =
        std::env::var_os("CHROMIUM").map_or_else(|| "/usr/bin/chromium".into(), PathBuf::from);
    path.exists().then_some(path)
}

/// A headless Chromium of our own, with a fresh profile; killed when dropped.
struct Browser {
    child: Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts it; returns it with the address of its DevTools WebSocket.
    fn start(binary: &Path) -> (Browser, String) {
        let profile =
            std::env::temp_dir().join(format!("lifecycle-admin-chromium-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("a profile directory");
        let child = Command::new(binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let browser = Browser { child, profile };
        // Chromium writes the port it chose and the browser's WebSocket path into the profile.
        let file = browser.profile.join("DevToolsActivePort");
        let address = wait(
            || {
                let text = std::fs::read_to_string(&file).ok()?;
                let mut lines = text.lines();
                let port: u16 = lines.next()?.trim().parse().ok()?;
                let path = lines.next()?.trim();
                Some(format!("ws://127.0.0.1:{port}{path}"))
            },
            "chromium's DevToolsActivePort",
        );
        (browser, address)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Polls `f` until it gives a value, for at most [`PATIENCE`].
fn wait<T>(mut f: impl FnMut() -> Option<T>, what: &str) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One page of the browser, over the DevTools protocol: the browser's WebSocket, and the
/// session of a page target attached to it.
struct Page {
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next: u64,
    session: Option<String>,
}

impl Page {
    fn open(devtools: &str) -> Page {
        let (socket, _) = tungstenite::connect(devtools).expect("connect to chromium");
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream
                .set_read_timeout(Some(PATIENCE))
                .expect("a read timeout");
        }
        let mut page = Page {
            socket,
            next: 0,
            session: None,
        };
        let target = page.call("Target.createTarget", json!({ "url": "about:blank" }));
        let attached = page.call(
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        page.session = attached["sessionId"].as_str().map(str::to_owned);
        assert!(page.session.is_some(), "a session: {attached}");
        page
    }

    /// Calls `method` (on the page, once attached) and returns its result; the events in
    /// between are skipped.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut request = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = &self.session {
            request["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(request.to_string()))
            .expect("send to chromium");
        loop {
            let message = self.socket.read().expect("an answer from chromium");
            let Message::Text(text) = message else {
                continue;
            };
            let answer: Value = serde_json::from_str(text.as_str()).expect("JSON from chromium");
            if answer["id"] == id {
                assert!(answer["error"].is_null(), "{method} failed: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// Evaluates `expression` in the page and returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        assert!(
            result["exceptionDetails"].is_null(),
            "{expression}: {result}"
        );
        result["result"]["value"].clone()
    }

    /// Waits until `condition` is true in the page.
    fn wait_until(&mut self, condition: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.eval(&format!("!!({condition})")) != json!(true) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for `{condition}`; the page says: {}",
                self.eval("document.body.innerText")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `webapp/hits` as the program's own JSON lists it.
fn hits_started_at(port: u16) -> u64 {
    let states: Value =
        serde_json::from_str(&get(port, "/lifecycle/api/states").body).expect("the states as JSON");
    states["states"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["name"] == "webapp/hits"))
        .and_then(|row| row["started_at_ms"].as_u64())
        .expect("webapp/hits has started")
}

#[test]
fn the_admin_page_restarts_a_state_and_shows_it() {
    let Some(binary) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Chromium is missing: install it (`apt-get install -y chromium`) or set $CHROMIUM"
        );
        eprintln!("\n**************** SKIPPED: the admin page's browser test: no Chromium (/usr/bin/chromium or $CHROMIUM) ****************\n");
        return;
    };
    // Where the time goes, for a slow run on a loaded machine.
    let began = Instant::now();
    let step = |what: &str| eprintln!("admin_browser: {what} at {:?}", began.elapsed());
    let port = free_port();
    let mut app = Example::start(
        "webapp",
        Options {
            args: vec![port.to_string()],
            env: vec![("LIFECYCLE_TOKEN", TOKEN.to_owned())],
            console: false,
            separate_streams: false,
        },
    );
    let address = app.wait_for("admin page: http://");
    assert!(
        address.ends_with(&format!("/lifecycle#token={TOKEN}")),
        "{address}"
    );
    let url = format!("http://127.0.0.1:{port}/lifecycle#token={TOKEN}");
    app.wait_for("end of input: the console is closed");

    step("the example serves");
    let (_browser, devtools) = Browser::start(&binary);
    let mut page = Page::open(&devtools);
    step("chromium is up");
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false }),
    );
    page.call("Page.navigate", json!({ "url": url }));
    page.wait_until(
        "document.querySelectorAll('#states tbody tr').length === 3 \
         && document.querySelector('#graph svg .node') \
         && document.getElementById('live').classList.contains('on')",
    );
    step("the page shows the states and listens");
    // The token moved from the address into the tab.
    assert_eq!(
        page.eval("document.getElementById('token').value"),
        json!(TOKEN)
    );
    assert_eq!(page.eval("location.hash"), json!(""));
    assert_eq!(
        page.eval("document.querySelectorAll('#graph svg .node.status-realized').length"),
        json!(3),
        "every state is drawn as realized"
    );

    let before = hits_started_at(port);
    let row = "document.querySelector('tr[data-state=\"webapp/hits\"]')";
    assert_eq!(
        page.eval(&format!("{row}.dataset.startedAt")),
        json!(before.to_string())
    );
    std::thread::sleep(Duration::from_millis(20)); // a restart starts at a later millisecond
    page.eval(&format!(
        "{row}.querySelector('button[data-action=\"restart\"]').click()"
    ));

    step("clicked restart");
    // The program's own account: its event log, then its JSON.
    app.wait_for("stopped webapp/hits");
    app.wait_for("started webapp/hits");
    app.wait_for("started webapp/server");
    let after = wait(
        || Some(hits_started_at(port)).filter(|after| *after > before),
        "a later start of webapp/hits",
    );

    step("the program restarted webapp/hits");
    // The page's account: the answer, the row's new start, and the live events.
    page.wait_until(
        "document.getElementById('last-action').textContent.includes('restarted webapp/hits')",
    );
    page.wait_until(&format!("{row}.dataset.startedAt === '{after}'"));
    page.wait_until(
        "[...document.querySelectorAll('#events li')].some(li => li.textContent.includes('webapp/hits  Started'))",
    );
    let said = page.eval("document.getElementById('last-action').textContent");
    assert!(
        said.as_str()
            .is_some_and(|said| said.contains("started webapp/hits")),
        "{said}"
    );

    step("the page shows the restart");
    // Pictures are taken once the page has settled on the new state.
    page.wait_until(&format!("{row}.dataset.status === 'realized'"));
    std::thread::sleep(Duration::from_millis(300));
    let shot = page.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("screenshot data"))
        .expect("base64 PNG");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/admin");
    std::fs::create_dir_all(&dir).expect("target/admin");
    std::fs::write(dir.join("admin.png"), &png).expect("write the screenshot");
    eprintln!("screenshot: {}", dir.join("admin.png").display());
}
