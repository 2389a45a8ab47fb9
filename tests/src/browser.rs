//! A real browser for the console's tests: Debian's headless Chromium driven
//! through ChromeDriver (WebDriver) with fantoccini.
//!
//! One ChromeDriver serves the whole test process; each test opens its own
//! browser session with a fresh profile. Chromium is started with the flags
//! that keep it off the network (no component updates, no sync, no QUIC), so
//! it never stalls on a machine without one. At most [`MAX_BROWSERS`] run
//! at once: each is a few hundred MB and a core's worth of start-up.
//!
//! Pages are checked with axe-core (a pinned copy in `tests/assets/`,
//! injected into the page) and photographed at desktop and phone size into
//! `target/screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// Browsers open at once in one test process.
pub const MAX_BROWSERS: usize = 2;
/// The pinned axe-core.
const AXE: &str = include_str!("../assets/axe-core-4.14.1.min.js");
/// Desktop and phone viewports of the screenshots.
pub const DESKTOP: (u32, u32) = (1280, 800);
pub const PHONE: (u32, u32) = (390, 844);

struct Driver {
    url: String,
    _child: Child,
}

static DRIVER: OnceLock<Driver> = OnceLock::new();
static SLOTS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();

fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            let name = candidates.first()?.rsplit('/').next()?;
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|d| d.join(name))
                    .find(|p| p.is_file())
            })
        })
}

fn chromium() -> PathBuf {
    std::env::var_os("SWITCHBOARD_TEST_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]))
        .expect("the browser tests need Chromium: apt-get install chromium chromium-driver")
}

fn driver() -> &'static Driver {
    DRIVER.get_or_init(|| {
        let binary = std::env::var_os("SWITCHBOARD_TEST_CHROMEDRIVER")
            .map(PathBuf::from)
            .or_else(|| find(&["/usr/bin/chromedriver"]))
            .expect("the browser tests need ChromeDriver: apt-get install chromium chromium-driver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // In a process group of its own, ended (with the browsers it
        // started) as soon as this test process is gone, passed or not.
        let watchdog = format!(
            "trap 'kill 0' EXIT; \"$0\" --port={port} & while kill -0 {pid} 2>/dev/null; do sleep 0.5; done",
            pid = std::process::id()
        );
        let child = Command::new("setsid")
            .args(["sh", "-c", &watchdog])
            .arg(&binary)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ChromeDriver starts");
        let url = format!("http://127.0.0.1:{port}");
        // Ready when it accepts connections.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { url, _child: child }
    })
}

/// Where the screenshots go: `target/screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot folder");
    dir
}

/// One browser session on the console at `base`.
pub struct Browser {
    pub client: Client,
    pub base: String,
    _slot: tokio::sync::SemaphorePermit<'static>,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Opens a headless Chromium on a fresh profile.
    pub async fn open(base: &str) -> Browser {
        let slot = SLOTS
            .get_or_init(|| tokio::sync::Semaphore::new(MAX_BROWSERS))
            .acquire()
            .await
            .expect("the browser slots stay open");
        let profile = tempfile::tempdir().expect("a browser profile folder");
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_owned(),
            json!({"binary": chromium(), "args": args}),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&driver().url)
            .await
            .expect("a Chromium session through ChromeDriver");
        client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .expect("the window size");
        Browser {
            client,
            base: base.trim_end_matches('/').to_owned(),
            _slot: slot,
            _profile: profile,
        }
    }

    /// Opens a path of the console.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("the page opens");
    }

    /// The path of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        url.path().to_owned()
    }

    /// The element `css` selects, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => {
                let dump = self.dump().await;
                panic!("no element {css}: {e} (the page: {dump})")
            }
        }
    }

    /// How many elements `css` selects now.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|all| all.len())
            .unwrap_or(0)
    }

    /// Waits until `check` holds for the page's script value of `js`.
    pub async fn wait_for(&self, what: &str, js: &str, check: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..100 {
            last = self.client.execute(js, vec![]).await.unwrap_or(Value::Null);
            if check(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let dump = self.dump().await;
        panic!("waited 10 s for {what}; last value {last} (the page: {dump})");
    }

    /// Waits until the element `css` shows `text` (a part of its text).
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        let js = format!(
            "const e = document.querySelector({}); return e ? e.innerText : null;",
            json!(css)
        );
        self.wait_for(&format!("{css} to show {text:?}"), &js, |v| {
            v.as_str().is_some_and(|t| t.contains(text))
        })
        .await;
    }

    /// Waits until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let js = format!("return document.querySelector({}) === null;", json!(css));
        self.wait_for(&format!("{css} to go"), &js, |v| v == &json!(true))
            .await;
    }

    /// Types into the field `css` after clearing it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("the field clears");
        field.send_keys(text).await.expect("typing");
    }

    /// Sets a field's value as a person would pick it (a date, a time, a
    /// select), with the events a change fires.
    pub async fn set_value(&self, css: &str, value: &str) {
        self.find(css).await;
        self.client
            .execute(
                "const e = document.querySelector(arguments[0]); e.value = arguments[1];\
                 e.dispatchEvent(new Event('input', {bubbles: true}));\
                 e.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![json!(css), json!(value)],
            )
            .await
            .expect("the value is set");
    }

    /// Clicks the element `css`, scrolled to the middle of the window
    /// first (a sticky bar must not take the click).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(&element).expect("an element reference")],
            )
            .await
            .expect("scrolls");
        element.click().await.expect("the click");
    }

    /// Writes the page's HTML beside the screenshots; its path.
    pub async fn dump(&self) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let html = self.client.source().await.unwrap_or_default();
        let path = screenshot_dir().join(format!(
            "failure-{}-{}.html",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::write(&path, html);
        path.display().to_string()
    }

    /// Signs in with an email and password on the sign-in page.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/sign-in").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("form button[type=submit]").await;
        self.wait_for("the sign-in to finish", "return location.pathname;", |v| {
            v.as_str().is_some_and(|p| p != "/sign-in")
        })
        .await;
    }

    /// Runs axe-core on the page; the serious and critical violations, as
    /// `rule: target…` lines (all violations are written beside the
    /// screenshots as `axe-<name>.json`).
    pub async fn axe(&self, name: &str) -> Vec<String> {
        self.client
            .execute(AXE, vec![])
            .await
            .expect("axe-core loads in the page");
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {resultTypes: ['violations']})\
                   .then(r => done(r.violations), e => done({error: String(e)}));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        assert!(result.get("error").is_none(), "axe-core failed: {result}");
        let path = screenshot_dir().join(format!("axe-{name}.json"));
        std::fs::write(
            &path,
            serde_json::to_string_pretty(&result).unwrap_or_default(),
        )
        .expect("the axe report is written");
        result
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .map(|v| {
                let targets: Vec<String> = v["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| n["target"].to_string())
                    .collect();
                format!("{}: {}", v["id"].as_str().unwrap_or("?"), targets.join(" "))
            })
            .collect()
    }

    /// Checks the page with axe-core and photographs it at desktop and
    /// phone size as `<name>-desktop.png` and `<name>-phone.png`.
    pub async fn check_page(&self, name: &str) {
        let violations = self.axe(name).await;
        assert!(
            violations.is_empty(),
            "{name}: serious or critical accessibility violations: {violations:#?}"
        );
        self.screenshot(name).await;
    }

    /// Photographs the page at desktop and phone size.
    pub async fn screenshot(&self, name: &str) {
        let dir = screenshot_dir();
        for (label, (w, h)) in [("desktop", DESKTOP), ("phone", PHONE)] {
            self.client
                .set_window_size(w, h)
                .await
                .expect("the window size");
            tokio::time::sleep(Duration::from_millis(100)).await;
            // The whole page, not only what a window shows.
            let full = self
                .client
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await
                .ok()
                .and_then(|v| v.as_u64())
                .unwrap_or(u64::from(h));
            let tall = u32::try_from(full.clamp(u64::from(h), 8000)).unwrap_or(h);
            if tall > h {
                // The window's frame is not part of the page: leave room for it.
                self.client
                    .set_window_size(w, tall + (h - self.inner_height().await.min(h)))
                    .await
                    .expect("the window size");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let png = self.client.screenshot().await.expect("a screenshot");
            std::fs::write(dir.join(format!("{name}-{label}.png")), png)
                .expect("the screenshot is written");
        }
        self.client
            .set_window_size(DESKTOP.0, DESKTOP.1)
            .await
            .expect("the window size");
    }

    async fn inner_height(&self) -> u32 {
        self.client
            .execute("return window.innerHeight;", vec![])
            .await
            .ok()
            .and_then(|v| v.as_u64())
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0)
    }

    /// The transfer size of the page and its assets, in bytes, as the
    /// browser's resource timing counts it.
    pub async fn transfer_bytes(&self) -> u64 {
        let v = self
            .client
            .execute(
                "const nav = performance.getEntriesByType('navigation')[0];\
                 const res = performance.getEntriesByType('resource');\
                 return (nav ? nav.encodedBodySize : 0) + res.reduce((s, r) => s + r.encodedBodySize, 0);",
                vec![],
            )
            .await
            .expect("resource timing");
        v.as_u64().unwrap_or(0)
    }

    /// Closes the session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
