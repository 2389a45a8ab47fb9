//! A webhook receiver for the end-to-end tests: a small HTTP/1.1 server on
//! port 0 that checks every delivery's signature with the reference
//! implementation of Standard Webhooks (the `standardwebhooks` crate, not
//! our code), and answers as the test plans: a status, or nothing at all
//! for a while (past the sender's timeout), then 200s.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// 307 to another path of this receiver.
    Redirect,
    /// Keeps the connection silent this long, then closes it.
    Hang(Duration),
}

/// One request as it came.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The path it was posted to.
    pub path: String,
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
    pub content_type: String,
    pub body: Value,
    /// What the reference implementation said of the signature.
    pub verified: Result<(), String>,
    /// The status answered; `None` when the receiver hung.
    pub answered: Option<u16>,
}

impl Delivery {
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }
}

#[derive(Default)]
struct State {
    secret: Option<String>,
    plan: VecDeque<Answer>,
    received: Vec<Delivery>,
}

pub struct Receiver {
    port: u16,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the receiver binds");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        Receiver { port, state, task }
    }

    /// The URL to register.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/switchboard", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The endpoint's secret, which every delivery is checked with.
    pub fn set_secret(&self, secret: &str) {
        self.state().secret = Some(secret.to_owned());
    }

    /// The next answers, in turn, instead of any planned before; after
    /// them, 200.
    pub fn plan(&self, answers: &[Answer]) {
        self.state().plan = answers.iter().copied().collect();
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Delivery> {
        self.state().received.clone()
    }

    /// Waits for `n` accepted deliveries (answered 2xx); every request so far.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let received = self.received();
            let accepted = received
                .iter()
                .filter(|d| d.answered.is_some_and(|s| (200..300).contains(&s)))
                .count();
            if accepted >= n {
                return received;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{accepted} of {n} deliveries accepted within {within:?}: {received:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn serve(mut socket: tokio::net::TcpStream, state: Arc<Mutex<State>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    for line in head.lines().skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.trim().as_bytes()),
            reqwest::header::HeaderValue::from_str(value.trim()),
        ) {
            headers.append(name, value);
        }
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let length: usize = header("content-length").parse().unwrap_or(0);
    while buffer.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let body = &buffer[head_end..head_end + length];
    let (answer, verified) = {
        let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
        let verified = match &state.secret {
            None => Err("no secret set".to_owned()),
            Some(secret) => standardwebhooks::Webhook::new(secret)
                .map_err(|e| e.to_string())
                .and_then(|hook| hook.verify(body, &headers).map_err(|e| e.to_string())),
        };
        let planned = state.plan.pop_front().unwrap_or(Answer::Status(200));
        // A delivery the reference implementation refuses is refused here too.
        let answer = match (&verified, planned) {
            (Err(_), _) => Answer::Status(401),
            (Ok(()), planned) => planned,
        };
        state.received.push(Delivery {
            path: head.split(' ').nth(1).unwrap_or_default().to_owned(),
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp").parse().unwrap_or(0),
            signature: header("webhook-signature"),
            content_type: header("content-type"),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            verified: verified.clone(),
            answered: match answer {
                Answer::Status(s) => Some(s),
                Answer::Redirect => Some(307),
                Answer::Hang(_) => None,
            },
        });
        (answer, verified)
    };
    match answer {
        Answer::Hang(d) => tokio::time::sleep(d).await,
        Answer::Redirect => {
            let response = "HTTP/1.1 307 Temporary Redirect\r\nlocation: /elsewhere\r\n\
                            content-length: 0\r\nconnection: close\r\n\r\n";
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
        Answer::Status(status) => {
            let text = match verified {
                Ok(()) => format!("status {status} from the test receiver"),
                Err(e) => format!("signature refused: {e}"),
            };
            let response = format!(
                "HTTP/1.1 {status} Planned\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    }
}
