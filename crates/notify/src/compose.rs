//! The voicemail email: what a recipient reads, as plain text and HTML.
//! Pure: the facts in, the message out.
//!
//! The subject names the number called and nothing of the caller: it is
//! what lock screens and mail lists show to anyone passing by.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use switchboard_admin::ops::numbers::display;
use uuid::Uuid;

/// What a voicemail email says, read from the call and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voicemail {
    pub call_sid: String,
    pub clinic_id: Uuid,
    pub number_id: Option<Uuid>,
    /// `From`, as Twilio sent it (`anonymous` for a hidden caller).
    pub from: String,
    /// Twilio's `CallerName`, when caller ID lookup gave one.
    pub caller_name: Option<String>,
    /// The number called (E.164) and its friendly name.
    pub to: String,
    pub number_name: Option<String>,
    pub started_at: DateTime<Utc>,
    /// The number's timezone: the time is told on its clock.
    pub timezone: Tz,
    /// The clinic's timezone: the console's call log reads dates on it.
    pub clinic_timezone: Tz,
    pub duration_seconds: Option<i32>,
    pub transcript: Transcript,
}

/// Where the transcript stands when the email is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transcript {
    /// The clinic does not transcribe voicemail.
    NotAsked,
    /// Asked for, but it had not arrived when the wait ended.
    NotReady,
    /// Twilio could not transcribe it.
    Failed,
    Text(String),
}

/// An email ready to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn caller(v: &Voicemail) -> String {
    let number = match v.from.as_str() {
        "" | "anonymous" | "unknown" => "an unknown number".to_owned(),
        from => from
            .strip_prefix("client:")
            .map_or_else(|| display(from), |client| format!("app client {client}")),
    };
    match v.caller_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => format!("{name}, {number}"),
        _ => number,
    }
}

fn called(v: &Voicemail) -> String {
    match v.number_name.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => format!("{} ({name})", display(&v.to)),
        _ => display(&v.to),
    }
}

fn local_time(v: &Voicemail) -> String {
    v.timezone
        .from_utc_datetime(&v.started_at.naive_utc())
        .format("%A, %B %-d, %Y at %-I:%M %p %Z")
        .to_string()
}

fn length(seconds: Option<i32>) -> String {
    match seconds {
        Some(s) if s >= 0 => format!("{}:{:02}", s / 60, s % 60),
        _ => "unknown".to_owned(),
    }
}

/// The call log of the console on that number and that day, where the
/// voicemail plays (the page reads its dates on the clinic's clock).
pub fn console_link(v: &Voicemail, console_url: &str) -> String {
    let day = v
        .clinic_timezone
        .from_utc_datetime(&v.started_at.naive_utc())
        .format("%Y-%m-%d")
        .to_string();
    let mut link = format!(
        "{}/c/{}/calls?",
        console_url.trim_end_matches('/'),
        v.clinic_id
    );
    if let Some(number) = v.number_id {
        link.push_str(&format!("number_id={number}&"));
    }
    link.push_str(&format!("since={day}&until={day}"));
    link
}

/// The email for one voicemail.
pub fn voicemail_email(v: &Voicemail, console_url: &str) -> Email {
    let subject = format!("New voicemail on {}", called(v));
    let link = console_link(v, console_url);
    let transcript = match &v.transcript {
        Transcript::NotAsked => None,
        Transcript::NotReady => Some((
            false,
            "Not ready yet: it will show in the call log when it arrives.".to_owned(),
        )),
        Transcript::Failed => Some((false, "Twilio could not transcribe this message.".into())),
        Transcript::Text(text) => Some((true, text.trim().to_owned())),
    };
    let rows = [
        ("From", caller(v)),
        ("Called", called(v)),
        ("When", local_time(v)),
        ("Length", length(v.duration_seconds)),
    ];

    let mut text = format!("New voicemail on {}.\n\n", called(v));
    for (label, value) in &rows {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text.push_str(&format!("\nListen in the console: {link}\n"));
    if let Some((_, words)) = &transcript {
        text.push_str(&format!("\nTranscript:\n{words}\n"));
    }

    let mut html =
        String::from("<!DOCTYPE html><html><body style=\"font-family:sans-serif;color:#1a1a1a\">");
    html.push_str(&format!(
        "<h1 style=\"font-size:18px\">New voicemail on {}</h1><table>",
        escape(&called(v))
    ));
    for (label, value) in &rows {
        html.push_str(&format!(
            "<tr><th style=\"text-align:left;padding-right:12px\">{label}</th><td>{}</td></tr>",
            escape(value)
        ));
    }
    html.push_str(&format!(
        "</table><p><a href=\"{}\">Listen in the console</a></p>",
        escape(&link)
    ));
    if let Some((is_text, words)) = &transcript {
        let words = escape(words).replace('\n', "<br>");
        html.push_str("<h2 style=\"font-size:16px\">Transcript</h2>");
        if *is_text {
            html.push_str(&format!("<blockquote>{words}</blockquote>"));
        } else {
            html.push_str(&format!("<p><em>{words}</em></p>"));
        }
    }
    html.push_str("</body></html>");
    Email {
        subject,
        text,
        html,
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voicemail() -> Voicemail {
        Voicemail {
            call_sid: "CA1".into(),
            clinic_id: Uuid::nil(),
            number_id: Some(Uuid::nil()),
            from: "+14155559876".into(),
            caller_name: Some("JANE <DOE>".into()),
            to: "+14155550100".into(),
            number_name: Some("Main line".into()),
            // 01:30 UTC on Dec 3 is still Dec 2 in Los Angeles.
            started_at: "2026-12-03T01:30:00Z".parse().expect("instant"),
            timezone: chrono_tz::America::Los_Angeles,
            clinic_timezone: chrono_tz::America::New_York,
            duration_seconds: Some(75),
            transcript: Transcript::Text("Please call me back & soon.".into()),
        }
    }

    #[test]
    fn the_subject_names_the_number_called_and_nothing_of_the_caller() {
        let email = voicemail_email(&voicemail(), "https://console.example.com/");
        assert_eq!(email.subject, "New voicemail on (415) 555-0100 (Main line)");
        assert!(!email.subject.contains("555-9876"));
        assert!(!email.subject.contains("JANE"));
    }

    #[test]
    fn the_body_tells_who_when_on_the_numbers_clock_how_long_and_what_was_said() {
        let email = voicemail_email(&voicemail(), "https://console.example.com/");
        for part in [
            "From: JANE <DOE>, (415) 555-9876",
            "Called: (415) 555-0100 (Main line)",
            "When: Wednesday, December 2, 2026 at 5:30 PM PST",
            "Length: 1:15",
            "Listen in the console: https://console.example.com/c/00000000-0000-0000-0000-000000000000/calls?number_id=00000000-0000-0000-0000-000000000000&since=2026-12-02&until=2026-12-02",
            "Transcript:\nPlease call me back & soon.",
        ] {
            assert!(email.text.contains(part), "{part:?} not in {}", email.text);
        }
        assert!(email.html.contains("JANE &lt;DOE&gt;"), "{}", email.html);
        assert!(
            email.html.contains("call me back &amp; soon"),
            "{}",
            email.html
        );
        assert!(!email.html.contains("<DOE>"));
    }

    #[test]
    fn a_hidden_caller_and_a_missing_transcript_are_said_in_words() {
        let mut v = voicemail();
        v.from = "anonymous".into();
        v.caller_name = None;
        v.transcript = Transcript::NotReady;
        let email = voicemail_email(&v, "http://127.0.0.1:8081/");
        assert!(
            email.text.contains("From: an unknown number"),
            "{}",
            email.text
        );
        assert!(
            email.text.contains("Transcript:\nNot ready yet"),
            "{}",
            email.text
        );
        v.transcript = Transcript::NotAsked;
        let email = voicemail_email(&v, "http://127.0.0.1:8081/");
        assert!(!email.text.contains("Transcript"), "{}", email.text);
    }
}
