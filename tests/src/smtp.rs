//! A small SMTP server for the tests: it speaks enough of RFC 5321 (EHLO,
//! MAIL, RCPT, DATA, RSET, NOOP, QUIT) for a real client to hand it mail,
//! keeps every message it accepts, and can refuse connections (421) for a
//! while, as a server that is away or busy does.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// A message as the sink received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The whole message, headers and body, dot-unstuffed.
    pub data: String,
}

impl Received {
    /// A header's value (unfolded), by name, ignoring case.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut()
                && (line.starts_with(' ') || line.starts_with('\t'))
            {
                v.push_str(line.trim_start());
                continue;
            }
            if value.is_some() {
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }

    /// The decoded body of the part of `content_type` (`text/plain`,
    /// `text/html`), quoted-printable and base64 undone, lines ending in `\n`.
    pub fn part(&self, content_type: &str) -> Option<String> {
        self.raw_part(content_type).map(|p| p.replace("\r\n", "\n"))
    }

    fn raw_part(&self, content_type: &str) -> Option<String> {
        let lower = self.data.to_ascii_lowercase();
        let at = lower.find(&format!("content-type: {content_type}"))?;
        let rest = &self.data[at..];
        let (head, body) = rest.split_once("\r\n\r\n")?;
        let body = body.split("\r\n--").next().unwrap_or(body);
        let encoding = head.to_ascii_lowercase();
        if encoding.contains("content-transfer-encoding: quoted-printable") {
            Some(quoted_printable(body))
        } else if encoding.contains("content-transfer-encoding: base64") {
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .ok()?;
            String::from_utf8(bytes).ok()
        } else {
            Some(body.to_owned())
        }
    }
}

fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = joined.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The running sink.
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    refuse: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> SmtpSink {
        SmtpSink::start_on(0).await
    }

    /// Listens on `port` of the loopback interface.
    pub async fn start_on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("the SMTP sink binds");
        let addr = listener.local_addr().expect("its address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let refuse = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let (received, refuse, connections) =
                (received.clone(), refuse.clone(), connections.clone());
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let refusing = refuse
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    tokio::spawn(session(stream, refusing, received.clone()));
                }
            }
        });
        SmtpSink {
            addr,
            received,
            refuse,
            connections,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The next `n` connections are greeted with `421` and closed.
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, Ordering::SeqCst);
    }

    /// Connections made so far, refused ones included.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Every message accepted so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("not poisoned").clone()
    }

    /// Waits until `n` messages have been accepted (panics after `within`).
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the SMTP sink got {} of {n} messages within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops listening (connections are then refused by the system).
    pub fn stop(self) {
        self.task.abort();
    }
}

async fn session(stream: tokio::net::TcpStream, refusing: bool, into: Arc<Mutex<Vec<Received>>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if refusing {
        let _ = write
            .write_all(b"421 sink.test Service not available, try again later\r\n")
            .await;
        return;
    }
    if write.write_all(b"220 sink.test ESMTP\r\n").await.is_err() {
        return;
    }
    let mut mail_from = String::new();
    let mut rcpt_to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                mail_from = command[4..].trim().to_owned();
                rcpt_to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                rcpt_to.push(command[4..].trim().to_owned());
                b"250 OK\r\n"
            }
            "DATA" => {
                if write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    match lines.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                into.lock().expect("not poisoned").push(Received {
                    mail_from: mail_from.clone(),
                    rcpt_to: rcpt_to.clone(),
                    data,
                });
                b"250 OK queued\r\n"
            }
            "RSET" | "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                let _ = write.write_all(b"221 Bye\r\n").await;
                return;
            }
            _ => b"502 Command not implemented\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
