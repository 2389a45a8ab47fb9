//! The README's first command, as a newcomer runs it: `switchboard serve`
//! with nothing configured starts its own PostgreSQL, serves both listeners,
//! stops everything on Ctrl-C, and reuses the data on the next start.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Serving {
    child: Child,
    webhook: u16,
    admin: u16,
    log: Vec<String>,
    /// Every line the service wrote, to this moment.
    all: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Serving {
    /// A failed assertion must not leave the service (and its PostgreSQL) running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = self.child.id().to_string();
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `switchboard serve` in `dir` and waits for its "serving" line.
fn serve(dir: &Path) -> Serving {
    serve_logging(dir, "info")
}

/// The same, logging at `level`.
fn serve_logging(dir: &Path, level: &str) -> Serving {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("serve")
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("SWITCHBOARD_WEBHOOK__LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_ADMIN__LISTEN", "127.0.0.1:0")
        .env("SWITCHBOARD_LOG__FORMAT", "json")
        .env("SWITCHBOARD_LOG__LEVEL", level)
        .env("RUST_LOG", level)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut log = Vec::new();
    while Instant::now() < deadline {
        let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) else {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited early with {status}: {log:#?}");
            }
            continue;
        };
        log.push(line.clone());
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let fields = &json["fields"];
        if fields["message"] == "switchboard is serving" {
            let port = |k: &str| fields[k].as_u64().expect("port") as u16;
            let (webhook, admin) = (port("webhook"), port("admin"));
            // keep draining so the child never blocks on a full pipe
            let all = std::sync::Arc::new(std::sync::Mutex::new(log.clone()));
            let kept = all.clone();
            std::thread::spawn(move || {
                while let Ok(line) = rx.recv() {
                    if let Ok(mut kept) = kept.lock() {
                        kept.push(line);
                    }
                }
            });
            return Serving {
                child,
                webhook,
                admin,
                log,
                all,
            };
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("serve did not come up within 90 s: {log:#?}");
}

/// One HTTP/1.1 exchange; the status and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn get(port: u16, path: &str) -> u16 {
    http(port, "GET", path, &[], "").0
}

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/requests")
        .join(name);
    std::fs::read_to_string(path)
        .expect("fixture")
        .trim()
        .to_string()
}

fn interrupt_and_wait(mut s: Serving) {
    let pid = s.child.id().to_string();
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = s.child.try_wait() {
            assert!(status.success(), "serve exited with {status}: {:#?}", s.log);
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = s.child.kill();
    let _ = s.child.wait();
    panic!("serve did not stop within 60 s of SIGINT");
}

/// The postmaster pid of a data folder, if one is alive.
fn postmaster_alive(data: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(data.join("postmaster.pid")) else {
        return false;
    };
    let pid = text.lines().next().unwrap_or("").trim().to_string();
    !pid.is_empty() && Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn serve_runs_on_its_own_database_stops_on_ctrl_c_and_reuses_the_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    // As root, PostgreSQL runs as another user, who must be able to enter.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let data = dir.path().join(".switchboard/pg");

    let first = serve(dir.path());
    assert_eq!(get(first.webhook, "/healthz"), 200);
    assert_eq!(get(first.admin, "/healthz"), 200);
    assert!(
        first.log.iter().any(|l| l.contains("demo clinic loaded")),
        "the demo clinic is loaded into the new database: {:#?}",
        first.log
    );
    assert!(
        postmaster_alive(&data),
        "PostgreSQL runs from the data folder"
    );

    // The README's signed sample call gets TwiML from the demo clinic.
    let (status, twiml) = http(
        first.webhook,
        "POST",
        "/twilio/voice",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("X-Twilio-Signature", &fixture("quickstart-voice.signature")),
        ],
        &fixture("quickstart-voice.form"),
    );
    assert_eq!(status, 200, "{twiml}");
    assert!(
        twiml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"),
        "{twiml}"
    );

    // The demo admin key opens the admin API on the demo clinic.
    let key = std::fs::read_to_string(dir.path().join(".switchboard/demo_admin_key"))
        .expect("the demo key file");
    let auth = format!("Bearer {}", key.trim());
    let (status, page) = http(
        first.admin,
        "GET",
        "/v1/clinics/00000000-0000-4000-8000-00000000c001/numbers",
        &[("Authorization", &auth)],
        "",
    );
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("+14155550100"), "{page}");

    // A second service on the same data folder shares the running PostgreSQL
    // and, when it stops, leaves it to the first.
    let second = serve(dir.path());
    assert_eq!(get(second.webhook, "/healthz"), 200);
    interrupt_and_wait(second);
    assert!(
        postmaster_alive(&data),
        "the first service's PostgreSQL still runs"
    );
    assert_eq!(get(first.admin, "/healthz"), 200);
    let (status, _) = http(
        first.admin,
        "GET",
        "/v1/clinics/00000000-0000-4000-8000-00000000c001/numbers",
        &[("Authorization", &auth)],
        "",
    );
    assert_eq!(status, 200, "the first service still reaches its database");
    interrupt_and_wait(first);
    assert!(!postmaster_alive(&data), "Ctrl-C stops PostgreSQL too");

    let restarted = serve(dir.path());
    assert_eq!(get(restarted.webhook, "/healthz"), 200);
    assert!(
        !restarted
            .log
            .iter()
            .any(|l| l.contains("demo clinic loaded")),
        "the second start reuses the data: {:#?}",
        restarted.log
    );
    interrupt_and_wait(restarted);
    assert!(!postmaster_alive(&data));
}

/// The demo's sign-in file: `(email, password)`.
fn demo_login(dir: &Path) -> (String, String) {
    let text = std::fs::read_to_string(dir.join(".switchboard/demo_login"))
        .expect("the demo sign-in file");
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .expect("the field")
            .trim()
            .to_owned()
    };
    (field("email"), field("password"))
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={enc}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[test]
fn the_demo_prints_the_console_and_a_sign_in_that_works_and_no_password_reaches_the_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let serving = serve_logging(dir.path(), "trace");
    let (email, password) = demo_login(dir.path());
    let wrong = "Wrong-Marker-Password-7731";
    let post = |fields: &[(&str, &str)]| {
        let body = form(fields);
        http(
            serving.admin,
            "POST",
            "/sign-in",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &body,
        )
    };
    let (status, body) = post(&[("email", &email), ("password", wrong)]);
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(&[("email", &email), ("password", &password), ("next", "/")]);
    assert_eq!(status, 303, "the demo sign-in opens the console: {body}");
    // Give the service a moment to write whatever it writes about them.
    std::thread::sleep(Duration::from_millis(500));
    let all = serving.all.lock().expect("the log").clone();
    assert!(
        all.iter().any(|l| l.starts_with("Console: http://")),
        "the console's address is printed: {all:#?}"
    );
    assert!(
        all.iter().any(|l| l.contains(&email)),
        "the demo sign-in is printed"
    );
    assert!(all.len() > 50, "trace logging is on: {} lines", all.len());
    for line in &all {
        assert!(!line.contains(wrong), "a password reached the log: {line}");
        if !line.trim_start().starts_with("password: ") {
            assert!(
                !line.contains(&password),
                "a password reached the log: {line}"
            );
        }
    }
    interrupt_and_wait(serving);
}
