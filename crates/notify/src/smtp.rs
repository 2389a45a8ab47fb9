//! Sending through SMTP with lettre, over rustls.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::compose::Email;
use crate::{ConfigProblem, EmailConfig};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which the server must offer
    /// (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS at all: a relay on the same host or network only.
    None,
}

/// An SMTP server to send through.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
    /// Each connection and command.
    pub timeout: Duration,
}

/// What became of one email.
#[derive(Debug)]
pub enum Sent {
    /// Accepted by the server (or kept in the outbox).
    Done,
    /// Worth another try later: the server is away, busy or said 4xx.
    Retry(String),
    /// Refused for good (5xx): trying again would be refused again.
    Refused(String),
}

/// The transport, or the outbox when none is configured.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(config: &EmailConfig) -> Result<Mailer, ConfigProblem> {
        let from: Mailbox = config.from.parse().map_err(|e| ConfigProblem {
            key: "email.from",
            problem: format!("not a mailbox ({e})"),
        })?;
        let transport = match &config.smtp {
            None => None,
            Some(smtp) => {
                let tls = match smtp.security {
                    Security::None => Tls::None,
                    security => {
                        let parameters =
                            TlsParameters::new(smtp.host.clone()).map_err(|e| ConfigProblem {
                                key: "email.smtp_host",
                                problem: format!("cannot set up TLS for it ({e})"),
                            })?;
                        if security == Security::Tls {
                            Tls::Wrapper(parameters)
                        } else {
                            Tls::Required(parameters)
                        }
                    }
                };
                let mut builder =
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(smtp.host.as_str())
                        .port(smtp.port)
                        .tls(tls)
                        .timeout(Some(smtp.timeout));
                if !smtp.username.is_empty() {
                    builder = builder.credentials(Credentials::new(
                        smtp.username.clone(),
                        smtp.password.clone(),
                    ));
                }
                Some(builder.build())
            }
        };
        Ok(Mailer { transport, from })
    }

    /// Whether emails are kept rather than sent.
    pub fn is_outbox(&self) -> bool {
        self.transport.is_none()
    }

    pub async fn send(&self, to: &str, email: &Email) -> Sent {
        let Some(transport) = &self.transport else {
            return Sent::Done;
        };
        let to: Mailbox = match to.parse() {
            Ok(to) => to,
            Err(e) => return Sent::Refused(format!("not an address: {e}")),
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.as_str())
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ));
        let message = match message {
            Ok(message) => message,
            Err(e) => return Sent::Refused(format!("cannot build the message: {e}")),
        };
        match transport.send(message).await {
            Ok(_) => Sent::Done,
            Err(e) if e.is_permanent() => Sent::Refused(e.to_string()),
            Err(e) => Sent::Retry(e.to_string()),
        }
    }
}
