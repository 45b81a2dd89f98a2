//! The headless-Chromium driver against a tiny local HTTP server and `data:` URLs.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use strata_tests::browser::{Browser, BrowserError};

const INDEX: &str = r#"<!doctype html><html><head><meta charset="utf-8"><title>loading</title>
<script src="/app.js"></script></head>
<body><h1 id="h">Hello, Strata</h1>
<form id="f" onsubmit="event.preventDefault(); document.getElementById('out').textContent = 'submitted ' + this.elements.name.value">
<input id="name" name="name"><button id="b" type="button"
 onclick="document.getElementById('out').textContent = 'clicked ' + document.getElementById('name').value">go</button>
</form><p id="out"></p><div style="height: 2000px; background: linear-gradient(#fff, #36c)"></div></body></html>"#;
const APP_JS: &str = "document.title = 'Strata test page';";
const CONSOLE_ERROR: &str =
    r#"<!doctype html><title>e</title><script>console.error("boom", 42)</script>"#;
const THROWS: &str = r#"<!doctype html><title>t</title><script>throw new Error("kaboom")</script>"#;
const MISSING_CSS: &str =
    r#"<!doctype html><title>m</title><link rel="stylesheet" href="/missing.css"><p>x</p>"#;

fn respond(mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return; // a preconnect that never sent a request
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, ctype, body) = match path {
        "/index.html" => ("200 OK", "text/html; charset=utf-8", INDEX),
        "/app.js" => ("200 OK", "text/javascript", APP_JS),
        "/console-error.html" => ("200 OK", "text/html", CONSOLE_ERROR),
        "/throw.html" => ("200 OK", "text/html", THROWS),
        "/missing-css.html" => ("200 OK", "text/html", MISSING_CSS),
        _ => ("404 Not Found", "text/plain", "not found"),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// Serves the fixed pages above on 127.0.0.1; returns the base URL.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || respond(stream));
        }
    });
    format!("http://{addr}")
}

#[test]
fn pages_console_errors_forms_and_screenshots() {
    let base = serve();
    let browser = Browser::launch().expect("launch chromium");
    assert!(
        browser.version().contains("Chrome/"),
        "{}",
        browser.version()
    );
    let page = browser.new_page().expect("new page");

    page.goto(&format!("{base}/index.html"))
        .expect("clean page loads");
    assert_eq!(page.eval("document.title").unwrap(), "Strata test page");
    assert_eq!(page.text("#h").unwrap(), "Hello, Strata");
    assert_eq!(
        page.eval("document.querySelectorAll('input').length")
            .unwrap(),
        1
    );
    assert_eq!(page.console_errors(), Vec::<String>::new());
    // Chromium fetches /favicon.ico by itself after the load event; its 404 is a warning.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !page.warnings().iter().any(|w| w.contains("/favicon.ico")) {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            page.warnings()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(page.console_errors(), Vec::<String>::new());

    // A same-document navigation fires no load event; goto returns at once.
    page.goto(&format!("{base}/index.html#out")).unwrap();
    assert_eq!(page.eval("location.hash").unwrap(), "#out");

    page.set_value("#name", "alice").unwrap();
    page.click("#b").unwrap();
    assert_eq!(page.text("#out").unwrap(), "clicked alice");
    page.submit("#f").unwrap();
    page.wait_for(
        "document.getElementById('out').textContent === 'submitted alice'",
        Duration::from_secs(5),
    )
    .unwrap();
    match page.click("#nope") {
        Err(BrowserError::Script(msg)) => {
            assert!(msg.contains("no element matches #nope"), "{msg}")
        }
        other => panic!("clicking a missing element: {other:?}"),
    }

    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("shots/deeper/index.png");
    page.screenshot(&shot).expect("screenshot");
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(png.len() > 2000, "screenshot of {} bytes", png.len());
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(width, 1280);
    assert!(
        height > 2000,
        "full page, not just the viewport: {width}x{height}"
    );

    page.goto(&format!("{base}/console-error.html")).unwrap();
    let errors = page.console_errors();
    assert!(errors.iter().any(|e| e == "boom 42"), "{errors:?}");

    page.goto(&format!("{base}/throw.html")).unwrap();
    let errors = page.console_errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("Uncaught") && errors[0].contains("kaboom"),
        "{errors:?}"
    );

    page.goto(&format!("{base}/missing-css.html")).unwrap();
    let errors = page.console_errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("404") && e.contains("/missing.css")),
        "{errors:?}"
    );

    // A new document starts a clean record, whether goto or the page itself navigates.
    page.eval("location.href = '/index.html'").unwrap();
    page.wait_for(
        "document.title === 'Strata test page'",
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(page.console_errors(), Vec::<String>::new());
    page.goto(&format!("{base}/console-error.html")).unwrap();
    page.goto(&format!("{base}/index.html")).unwrap();
    assert_eq!(page.console_errors(), Vec::<String>::new());

    match page.goto(&format!("{base}/gone.html")) {
        Err(BrowserError::Navigation { reason, .. }) => assert!(reason.contains("404"), "{reason}"),
        other => panic!("a 404 document must fail goto: {other:?}"),
    }
    // Nothing listens here: the navigation itself fails.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(matches!(
        page.goto(&format!("http://{dead}/")),
        Err(BrowserError::Navigation { .. })
    ));
}

#[test]
fn data_urls_eval_and_timeouts() {
    let mut browser = Browser::launch().expect("launch chromium");
    browser.set_timeout(Duration::from_secs(20));
    let page = browser.new_page().unwrap();
    page.goto("data:text/html,<p id=x>42</p><script>console.assert(1 === 2, 'math')</script>")
        .unwrap();
    assert_eq!(page.text("#x").unwrap(), "42");
    assert_eq!(page.eval("1 + 2").unwrap(), 3);
    assert_eq!(
        page.eval("({a: [1, 'b']})").unwrap(),
        serde_json::json!({"a": [1, "b"]})
    );
    assert_eq!(page.eval("undefined").unwrap(), serde_json::Value::Null);
    assert_eq!(
        page.eval("new Promise(r => setTimeout(() => r('later'), 20))")
            .unwrap(),
        "later"
    );
    match page.eval("null.x") {
        Err(BrowserError::Script(msg)) => assert!(msg.contains("TypeError"), "{msg}"),
        other => panic!("{other:?}"),
    }
    match page.eval("Promise.reject(new Error('nope'))") {
        Err(BrowserError::Script(msg)) => assert!(msg.contains("nope"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let errors = page.console_errors();
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Assertion failed") && e.contains("math")),
        "{errors:?}"
    );

    page.eval("setTimeout(() => { window.ready = true }, 100)")
        .unwrap();
    page.wait_for("window.ready === true", Duration::from_secs(5))
        .unwrap();
    match page.wait_for("false", Duration::from_millis(300)) {
        Err(BrowserError::Timeout(what, _)) => assert!(what.contains("last value false"), "{what}"),
        other => panic!("{other:?}"),
    }

    // Two tabs are independent.
    let other = browser.new_page().unwrap();
    other
        .goto("data:text/html,<title>second</title><script>console.error('only here')</script>")
        .unwrap();
    assert_eq!(other.eval("document.title").unwrap(), "second");
    assert_eq!(other.console_errors(), vec!["only here".to_string()]);
    assert_eq!(page.text("#x").unwrap(), "42");
    assert!(!page
        .console_errors()
        .iter()
        .any(|e| e.contains("only here")));
}

#[test]
fn missing_binary_is_a_clear_error() {
    // The lookup reads the environment, which tests share: run the check in a child process
    // of this test binary with an empty PATH and no STRATA_CHROMIUM.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "launch_without_chromium", "--nocapture"])
        .env("PATH", "/nonexistent")
        .env_remove("STRATA_CHROMIUM")
        .env("STRATA_BROWSER_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

/// Runs for real only inside `missing_binary_is_a_clear_error`'s child process.
#[test]
fn launch_without_chromium() {
    if std::env::var_os("STRATA_BROWSER_TEST_CHILD").is_none() {
        return;
    }
    match Browser::launch() {
        Err(e @ BrowserError::NotFound) => {
            let msg = e.to_string();
            assert!(
                msg.contains("apt-get install chromium") && msg.contains("STRATA_CHROMIUM"),
                "{msg}"
            );
        }
        Err(e) => panic!("expected NotFound, got {e}"),
        Ok(_) => panic!("launched a browser with an empty PATH"),
    }
}
