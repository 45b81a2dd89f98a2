//! A minimal synchronous Chrome DevTools Protocol driver for headless Chromium, for browser tests.
//!
//! [`Browser::launch`] starts Chromium with `--remote-debugging-pipe`: CDP messages are JSON
//! terminated by a NUL byte, written to the browser's fd 3 and read from its fd 4. A reader thread
//! routes responses by `id` to the caller waiting for them and buffers events per flat session;
//! every wait is bounded by a timeout ([`DEFAULT_TIMEOUT`] unless changed) and ends in a typed
//! [`BrowserError`], never a hang.

use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long any single wait (a command, a page load, a condition) lasts unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(50);
const FLAGS: &str = "--headless=new --no-sandbox --disable-gpu --no-first-run \
    --no-default-browser-check --disable-extensions --disable-background-networking \
    --disable-sync --disable-dev-shm-usage --hide-scrollbars --window-size=1280,900 \
    --remote-debugging-pipe about:blank";

/// Everything that can go wrong driving the browser.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("no Chromium binary found ($STRATA_CHROMIUM unset; none of chromium, chromium-browser, google-chrome on PATH): install Debian's chromium: apt-get install chromium, or set STRATA_CHROMIUM")]
    NotFound,
    #[error("could not start {0}: {1}")]
    Launch(PathBuf, io::Error),
    #[error("browser I/O: {0}")]
    Io(#[from] io::Error),
    #[error("the browser closed the DevTools pipe: {0}")]
    Closed(String),
    #[error("timed out after {1:?} waiting for {0}")]
    Timeout(String, Duration),
    #[error("CDP {method} failed: {message}")]
    Protocol { method: String, message: String },
    #[error("navigation to {url} failed: {reason}")]
    Navigation { url: String, reason: String },
    #[error("script error: {0}")]
    Script(String),
    #[error("bad data from the browser: {0}")]
    Decode(String),
}

/// Result of every driver call.
pub type Result<T, E = BrowserError> = std::result::Result<T, E>;

#[derive(Default)]
struct State {
    waiting: HashSet<u64>,
    responses: HashMap<u64, Value>,
    events: HashMap<String, Vec<Value>>,
    closed: Option<String>,
}

/// The pipe to the browser, shared by the browser, its pages and the reader thread.
struct Conn {
    writer: Mutex<File>,
    next_id: AtomicU64,
    state: Mutex<State>,
    cond: Condvar,
}

impl Conn {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for news from the reader thread, at most until `deadline`.
    fn wait<'a>(&self, st: MutexGuard<'a, State>, deadline: Instant) -> MutexGuard<'a, State> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.cond
            .wait_timeout(st, left)
            .unwrap_or_else(|p| p.into_inner())
            .0
    }

    fn read_loop(&self, pipe: File) {
        let mut reader = BufReader::new(pipe);
        let reason = loop {
            let mut buf = Vec::new();
            match reader.read_until(0, &mut buf) {
                Ok(0) => break "end of stream".to_string(),
                Err(e) => break e.to_string(),
                Ok(_) => {}
            }
            if buf.last() == Some(&0) {
                buf.pop();
            }
            let Ok(msg) = serde_json::from_slice::<Value>(&buf) else {
                continue;
            };
            let mut st = self.lock();
            if let Some(id) = msg.get("id").and_then(Value::as_u64) {
                if st.waiting.remove(&id) {
                    st.responses.insert(id, msg);
                }
            } else if let Some(session) = msg.get("sessionId").and_then(Value::as_str) {
                if let Some(queue) = st.events.get_mut(session) {
                    queue.push(msg);
                }
            }
            drop(st);
            self.cond.notify_all();
        };
        self.lock().closed = Some(reason);
        self.cond.notify_all();
    }

    /// Sends one command and waits for its response; returns its `result`.
    fn call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = s.into();
        }
        let mut bytes =
            serde_json::to_vec(&msg).map_err(|e| BrowserError::Decode(e.to_string()))?;
        bytes.push(0);
        self.lock().waiting.insert(id);
        let written = self
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(&bytes);
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        let outcome = loop {
            if let Some(resp) = st.responses.remove(&id) {
                break Ok(resp);
            } else if let Some(reason) = &st.closed {
                break Err(BrowserError::Closed(reason.clone()));
            } else if let Err(e) = &written {
                break Err(BrowserError::Closed(e.to_string()));
            }
            if Instant::now() >= deadline {
                break Err(BrowserError::Timeout(
                    format!("the answer to {method}"),
                    timeout,
                ));
            }
            st = self.wait(st, deadline);
        };
        st.waiting.remove(&id);
        let resp = outcome?;
        if let Some(err) = resp.get("error") {
            let message = err["message"].as_str().unwrap_or("unknown error");
            let data = err
                .get("data")
                .and_then(Value::as_str)
                .map(|d| format!(" ({d})"));
            return Err(BrowserError::Protocol {
                method: method.into(),
                message: format!("{message}{}", data.unwrap_or_default()),
            });
        }
        Ok(resp.get("result").cloned().unwrap_or(Value::Null))
    }

    /// Takes the session's buffered events; with a deadline, first waits until there is one.
    fn take_events(&self, session: &str, deadline: Option<Instant>) -> Result<Vec<Value>> {
        let mut st = self.lock();
        loop {
            let queue = st.events.entry(session.to_string()).or_default();
            if !queue.is_empty() {
                return Ok(std::mem::take(queue));
            }
            if let Some(reason) = &st.closed {
                return Err(BrowserError::Closed(reason.clone()));
            }
            match deadline {
                Some(d) if Instant::now() < d => st = self.wait(st, d),
                _ => return Ok(Vec::new()),
            }
        }
    }
}

/// A headless Chromium process with its own temporary profile. Dropping it closes the browser,
/// kills its whole process group and removes the profile.
pub struct Browser {
    child: Child,
    conn: Arc<Conn>,
    dir: tempfile::TempDir,
    timeout: Duration,
    version: String,
}

fn find_binary() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("STRATA_CHROMIUM").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let cand = dir.join(name);
            if let Ok(m) = cand.metadata() {
                if m.is_file()
                    && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
                {
                    return Ok(cand);
                }
            }
        }
    }
    Err(BrowserError::NotFound)
}

/// A close-on-exec pipe whose ends sit at fd 10 or above, so that the child's dup2 onto fds 3
/// and 4 can neither clobber the other end nor be a no-op that leaves close-on-exec set.
fn high_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let (r, w) = io::pipe()?;
    let high = |fd: &dyn AsRawFd| {
        // SAFETY: F_DUPFD_CLOEXEC returns a new fd, which we then own, or -1.
        match unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) } {
            n if n < 0 => Err(io::Error::last_os_error()),
            n => Ok(unsafe { OwnedFd::from_raw_fd(n) }),
        }
    };
    Ok((high(&r)?, high(&w)?))
}

impl Browser {
    /// Starts headless Chromium (`$STRATA_CHROMIUM`, else `chromium`, `chromium-browser` or
    /// `google-chrome` on PATH) with a fresh profile and checks that it answers over the pipe.
    pub fn launch() -> Result<Browser> {
        let binary = find_binary()?;
        let dir = tempfile::Builder::new()
            .prefix("strata-chromium-")
            .tempdir()?;
        let log = File::create(dir.path().join("stderr.log"))?;
        let (to_browser_r, to_browser_w) = high_pipe()?;
        let (from_browser_r, from_browser_w) = high_pipe()?;
        let (fd_in, fd_out) = (to_browser_r.as_raw_fd(), from_browser_w.as_raw_fd());
        let mut cmd = Command::new(&binary);
        cmd.args(FLAGS.split_whitespace())
            .arg(format!(
                "--user-data-dir={}",
                dir.path().join("profile").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(fd_in, 3) < 0 || libc::dup2(fd_out, 4) < 0 || libc::setpgid(0, 0) < 0
                {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .map_err(|e| BrowserError::Launch(binary.clone(), e))?;
        drop((to_browser_r, from_browser_w));
        let conn = Arc::new(Conn {
            writer: Mutex::new(File::from(to_browser_w)),
            next_id: AtomicU64::new(1),
            state: Mutex::default(),
            cond: Condvar::new(),
        });
        let reader = Arc::clone(&conn);
        let pipe = File::from(from_browser_r);
        std::thread::Builder::new()
            .name("cdp-reader".into())
            .spawn(move || reader.read_loop(pipe))?;
        let mut browser = Browser {
            child,
            conn,
            dir,
            timeout: DEFAULT_TIMEOUT,
            version: String::new(),
        };
        match browser
            .conn
            .call(None, "Browser.getVersion", json!({}), browser.timeout)
        {
            Ok(v) => browser.version = string(&v["product"]),
            Err(e) => {
                let log = std::fs::read(browser.dir.path().join("stderr.log")).unwrap_or_default();
                let tail = String::from_utf8_lossy(&log[log.len().saturating_sub(3000)..]);
                let e = io::Error::other(format!("{e}; its stderr ends:\n{tail}"));
                return Err(BrowserError::Launch(binary, e));
            }
        }
        Ok(browser)
    }

    /// The browser's product string, e.g. `Chrome/156.0.8078.129`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Sets the timeout of every later wait of this browser and of pages opened after this call.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Opens a new tab on `about:blank`, attached as a flat session with the `Page`, `Runtime`,
    /// `Log` and `Network` domains enabled, so console errors are collected from the start.
    pub fn new_page(&self) -> Result<Page> {
        let t = self.timeout;
        let blank = json!({"url": "about:blank"});
        let target = string(&self.conn.call(None, "Target.createTarget", blank, t)?["targetId"]);
        let params = json!({"targetId": target, "flatten": true});
        let session =
            string(&self.conn.call(None, "Target.attachToTarget", params, t)?["sessionId"]);
        self.conn.lock().events.insert(session.clone(), Vec::new());
        let page = Page {
            conn: Arc::clone(&self.conn),
            session,
            target,
            timeout: t,
            log: Mutex::default(),
        };
        for domain in ["Page", "Runtime", "Log", "Network"] {
            page.call(&format!("{domain}.enable"), json!({}))?;
        }
        Ok(page)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .conn
            .call(None, "Browser.close", json!({}), Duration::from_secs(2));
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut st = self.conn.lock();
        while st.closed.is_none() && Instant::now() < deadline {
            st = self.conn.wait(st, deadline);
        }
        drop(st);
        // The leader is not reaped yet, so the group id cannot have been reused.
        unsafe { libc::killpg(self.child.id() as libc::pid_t, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

#[derive(Default)]
struct PageLog {
    errors: Vec<String>,
    warnings: Vec<String>,
    frame: String,
    loader: String,
    /// Requests the browser made by itself (the favicon), not the page.
    own_requests: HashSet<String>,
    status: Option<(i64, String)>,
}

/// One tab. Its methods block until done or until the page's timeout passes.
pub struct Page {
    conn: Arc<Conn>,
    session: String,
    target: String,
    timeout: Duration,
    log: Mutex<PageLog>,
}

/// The string at `v`, or "" when it is not one.
fn string(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn remote_object_text(o: &Value) -> String {
    match o.get("value") {
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => o["description"]
            .as_str()
            .or(o["type"].as_str())
            .unwrap_or_default()
            .to_string(),
    }
}

fn exception_text(d: &Value) -> String {
    let what = d["exception"]["description"].as_str().map(str::to_string);
    let text = d["text"].as_str().unwrap_or("exception");
    let what = what.map_or(text.to_string(), |w| format!("{text} {w}"));
    match d["url"].as_str().filter(|u| !u.is_empty()) {
        Some(url) => format!(
            "{what} ({url}:{})",
            d["lineNumber"].as_i64().unwrap_or(0) + 1
        ),
        None => what,
    }
}

impl Page {
    fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.conn
            .call(Some(&self.session), method, params, self.timeout)
    }

    fn lock_log(&self) -> MutexGuard<'_, PageLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, ev: &Value) {
        let p = &ev["params"];
        let mut log = self.lock_log();
        match ev["method"].as_str().unwrap_or_default() {
            "Runtime.exceptionThrown" => log.errors.push(exception_text(&p["exceptionDetails"])),
            "Runtime.consoleAPICalled" => {
                let args = p["args"].as_array().map(Vec::as_slice).unwrap_or_default();
                let text = args
                    .iter()
                    .map(remote_object_text)
                    .collect::<Vec<_>>()
                    .join(" ");
                match p["type"].as_str() {
                    Some("error") => log.errors.push(text),
                    Some("assert") => log.errors.push(format!("Assertion failed: {text}")),
                    Some("warning") => log.warnings.push(text),
                    _ => {}
                }
            }
            "Log.entryAdded" => {
                let e = &p["entry"];
                let text = match e["url"].as_str().filter(|u| !u.is_empty()) {
                    Some(url) => format!("{} ({url})", string(&e["text"])),
                    None => string(&e["text"]),
                };
                let own = e["networkRequestId"]
                    .as_str()
                    .is_some_and(|r| log.own_requests.contains(r));
                match e["level"].as_str() {
                    Some("error") if !own => log.errors.push(text),
                    Some("error") => log.warnings.push(text),
                    Some("warning") => log.warnings.push(text),
                    _ => {}
                }
            }
            // A new document in the main frame: DevTools clears its console here too.
            "Page.frameNavigated" if p["frame"].get("parentId").is_none() => {
                log.errors.clear();
                log.warnings.clear();
                log.own_requests.clear();
            }
            "Network.requestWillBeSent"
                if p["type"] == "Other" && p["initiator"]["type"] == "other" =>
            {
                log.own_requests.insert(string(&p["requestId"]));
            }
            "Network.responseReceived"
                if p["type"] == "Document"
                    && p["loaderId"] == log.loader.as_str()
                    && p["frameId"] == log.frame.as_str() =>
            {
                let r = &p["response"];
                log.status = Some((r["status"].as_i64().unwrap_or(0), string(&r["statusText"])));
            }
            _ => {}
        }
    }

    /// Records buffered events; with a deadline, waits until `stop` accepts one (then `true`)
    /// or the deadline passes (`false`).
    fn pump(
        &self,
        deadline: Option<Instant>,
        mut stop: impl FnMut(&Value) -> bool,
    ) -> Result<bool> {
        loop {
            let mut found = false;
            for ev in self.conn.take_events(&self.session, deadline)? {
                self.record(&ev);
                found = found || stop(&ev);
            }
            if found {
                return Ok(true);
            }
            if deadline.is_none_or(|d| Instant::now() >= d) {
                return Ok(false);
            }
        }
    }

    /// Sets the timeout of every later wait of this page.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Navigates and waits for the `load` event (a same-document navigation returns at once).
    /// Console errors and warnings start afresh. Fails if the browser reports a navigation error
    /// or the main document's HTTP status is 400 or more (the page stays loaded for inspection).
    pub fn goto(&self, url: &str) -> Result<()> {
        self.pump(None, |_| false)?;
        *self.lock_log() = PageLog::default();
        let nav = self.call("Page.navigate", json!({"url": url}))?;
        let fail = |reason: String| BrowserError::Navigation {
            url: url.into(),
            reason,
        };
        if let Some(e) = nav["errorText"].as_str().filter(|e| !e.is_empty()) {
            return Err(fail(e.to_string()));
        }
        let Some(loader) = nav["loaderId"].as_str() else {
            return Ok(());
        };
        {
            let mut log = self.lock_log();
            log.loader = loader.to_string();
            log.frame = string(&nav["frameId"]);
        }
        let deadline = Instant::now() + self.timeout;
        if !self.pump(Some(deadline), |ev| ev["method"] == "Page.loadEventFired")? {
            return Err(BrowserError::Timeout(
                format!("the load event of {url}"),
                self.timeout,
            ));
        }
        match self.lock_log().status.clone() {
            Some((status, text)) if status >= 400 => Err(fail(format!("HTTP {status} {text}"))),
            _ => Ok(()),
        }
    }

    /// Everything DevTools would show in red since the main frame last loaded a new document
    /// (by [`goto`](Self::goto), a link, a form or a script): uncaught exceptions,
    /// `console.error`, failed `console.assert`, and `Log` entries of level error (failed
    /// resource loads, CSP violations), in order. Everything the page reported before this call
    /// is included (a round trip to the page comes first). One exception: a failed request the
    /// browser makes by itself after the load event (the favicon) counts as a warning, since
    /// whether it is reported before this call would be a race.
    pub fn console_errors(&self) -> Vec<String> {
        self.settled_log().errors.clone()
    }

    /// Like [`console_errors`](Self::console_errors), for `console.warn` and warning-level
    /// `Log` entries.
    pub fn warnings(&self) -> Vec<String> {
        self.settled_log().warnings.clone()
    }

    /// The log after a round trip to the page: events travel in order with responses, so
    /// everything the page reported before the round trip has been recorded.
    fn settled_log(&self) -> MutexGuard<'_, PageLog> {
        let _ = self.call("Runtime.evaluate", json!({"expression": "0"}));
        let _ = self.pump(None, |_| false);
        self.lock_log()
    }

    /// Evaluates `js` in the page, awaiting a promise result, and returns the value as JSON
    /// (`undefined` is `Null`). An exception in the script is a [`BrowserError::Script`].
    pub fn eval(&self, js: &str) -> Result<Value> {
        let params = json!({"expression": js, "returnByValue": true, "awaitPromise": true});
        let r = self.call("Runtime.evaluate", params)?;
        if let Some(d) = r.get("exceptionDetails") {
            return Err(BrowserError::Script(exception_text(d)));
        }
        Ok(r["result"].get("value").cloned().unwrap_or(Value::Null))
    }

    /// Polls `condition` (a JS expression) until it evaluates to `true`; errors thrown meanwhile
    /// count as not yet true. Fails with [`BrowserError::Timeout`] after `timeout`.
    pub fn wait_for(&self, condition: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.eval(condition) {
                Ok(Value::Bool(true)) => return Ok(()),
                Err(e @ BrowserError::Closed(_)) => return Err(e),
                Ok(v) => format!("last value {v}"),
                Err(e) => format!("last error: {e}"),
            };
            if Instant::now() >= deadline {
                return Err(BrowserError::Timeout(
                    format!("`{condition}` ({last})"),
                    timeout,
                ));
            }
            std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
        }
    }

    /// Runs `body` on the first element matching `selector` (bound as `el`); a selector that
    /// matches nothing is a [`BrowserError::Script`].
    fn on_element(&self, selector: &str, body: &str) -> Result<Value> {
        let sel = Value::from(selector);
        self.eval(&format!(
            "(() => {{ const el = document.querySelector({sel}); \
             if (!el) throw new Error('no element matches ' + {sel}); {body} }})()"
        ))
    }

    /// Clicks the first element matching `selector`.
    pub fn click(&self, selector: &str) -> Result<()> {
        self.on_element(selector, "el.click();").map(drop)
    }

    /// Sets the `value` of the first element matching `selector` and dispatches `input` and
    /// `change` events, as typing would.
    pub fn set_value(&self, selector: &str, value: &str) -> Result<()> {
        let body = format!(
            "el.value = {}; for (const t of ['input', 'change']) \
             el.dispatchEvent(new Event(t, {{bubbles: true}}));",
            Value::from(value)
        );
        self.on_element(selector, &body).map(drop)
    }

    /// Submits the form matching `selector` as its submit button would (`requestSubmit`, so
    /// validation and `submit` handlers run). A resulting navigation is not awaited.
    pub fn submit(&self, selector: &str) -> Result<()> {
        self.on_element(selector, "el.requestSubmit();").map(drop)
    }

    /// The `textContent` of the first element matching `selector`.
    pub fn text(&self, selector: &str) -> Result<String> {
        Ok(string(
            &self.on_element(selector, "return el.textContent;")?,
        ))
    }

    /// Saves a PNG of the whole page (beyond the viewport) to `path`, creating parent
    /// directories; the file appears complete or not at all (written aside, then renamed).
    pub fn screenshot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let m = self.call("Page.getLayoutMetrics", json!({}))?;
        let size = &m["cssContentSize"];
        let dim = |k: &str| size[k].as_f64().unwrap_or(1.0).ceil().max(1.0);
        let clip =
            json!({"x": 0, "y": 0, "width": dim("width"), "height": dim("height"), "scale": 1});
        let params = json!({"format": "png", "captureBeyondViewport": true, "clip": clip});
        let shot = self.call("Page.captureScreenshot", params)?;
        let data = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .map_err(|e| BrowserError::Decode(format!("screenshot base64: {e}")))?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp-{}", std::process::id()));
        std::fs::write(&tmp, &data)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        self.conn.lock().events.remove(&self.session);
        let params = json!({"targetId": self.target});
        let _ = self
            .conn
            .call(None, "Target.closeTarget", params, Duration::from_secs(2));
    }
}
