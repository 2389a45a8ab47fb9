//! TwiML rendering of a [`Decision`] with quick-xml.
//!
//! The output starts exactly with the XML declaration (Twilio answers error
//! 12100 to anything before it), has a `<Response>` root for voice and
//! messaging alike, and escapes every text and attribute. Characters XML 1.0
//! cannot carry at all (control characters) are dropped, so the result always
//! parses. Action URLs are built from the configured public base URL, never
//! from the Host a request came with (Twilio signs the public URL).

use std::borrow::Cow;
use std::cell::Cell;
use std::io;

use quick_xml::Writer;
use quick_xml::escape::escape;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};

use crate::resolve::{Decision, DialPlan, DialTarget, Speech, TwimlPlan};

/// The declaration every answer starts with.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Path of the `<Dial action>` callback, under the public base URL.
pub const CONTINUE_PATH: &str = "/twilio/voice/continue";
/// Path of a confirming member's prompt (`<Number url>`), under the public
/// base URL.
pub const CONFIRM_PATH: &str = "/twilio/voice/confirm";
/// Path of that prompt's `<Gather action>`.
pub const CONFIRM_ANSWER_PATH: &str = "/twilio/voice/confirm/answer";
/// Seconds a member has to press 1 once the prompt is said.
pub const CONFIRM_SECONDS: u16 = 8;
/// Path of the voicemail `<Record>` callbacks, under the public base URL.
pub const RECORDING_PATH: &str = "/twilio/voice/recording";
/// Path of Twilio's transcript callback for a voicemail, under the public base URL.
pub const TRANSCRIPTION_PATH: &str = "/twilio/voice/transcription";
/// Longest voicemail, in seconds.
pub const VOICEMAIL_MAX_SECONDS: u16 = 120;

/// What rendering needs besides the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderContext<'a> {
    /// The public base URL Twilio reaches the service at, e.g.
    /// `https://switchboard.example.com` (a trailing `/` is ignored).
    pub public_base_url: &'a str,
}

impl RenderContext<'_> {
    /// Writes `base + path` into `out`.
    fn push_url(&self, out: &mut String, path: &str) {
        out.push_str(self.public_base_url.trim_end_matches('/'));
        out.push_str(path);
    }
}

/// Renders a decision as TwiML.
pub fn render(d: &Decision, ctx: &RenderContext) -> String {
    let (tag, url) = SCRATCH.take().unwrap_or_default();
    let mut out = Out {
        w: Writer::new(Vec::with_capacity(512)),
        tag,
        url,
    };
    let written = write_response(&mut out, d, ctx);
    let Out { w, tag, url } = out;
    SCRATCH.set(Some((tag, url)));
    match written {
        Ok(()) => {
            String::from_utf8(w.into_inner()).unwrap_or_else(|_| fallback_response().to_owned())
        }
        // Writing into a Vec cannot fail; answer something safe all the same.
        Err(_) => fallback_response().to_owned(),
    }
}

thread_local! {
    /// The start-tag and URL buffers, kept by each thread from one answer to
    /// the next so that rendering allocates only its output.
    static SCRATCH: Cell<Option<(String, String)>> = const { Cell::new(None) };
}

fn fallback_response() -> &'static str {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#
}

/// The writer, with scratch buffers reused for every start tag and URL, so
/// that rendering allocates the output and little else.
struct Out {
    w: Writer<Vec<u8>>,
    tag: String,
    url: String,
}

impl Out {
    /// Writes a start tag (`empty`: a self-closing one) with its attributes,
    /// each value escaped.
    fn open(&mut self, name: &str, attributes: &[(&str, &str)], empty: bool) -> io::Result<()> {
        self.tag.clear();
        self.tag.push_str(name);
        for (key, value) in attributes {
            self.tag.push(' ');
            self.tag.push_str(key);
            self.tag.push_str("=\"");
            self.tag.push_str(&escape(xml_safe(value)));
            self.tag.push('"');
        }
        let element = BytesStart::from_content(self.tag.as_str(), name.len());
        self.w.write_event(if empty {
            Event::Empty(element)
        } else {
            Event::Start(element)
        })
    }

    fn start(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        self.open(name, attributes, false)
    }

    fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
        self.open(name, attributes, true)
    }

    fn end(&mut self, name: &str) -> io::Result<()> {
        self.w.write_event(Event::End(BytesEnd::new(name)))
    }

    fn text_element(
        &mut self,
        name: &str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> io::Result<()> {
        self.start(name, attributes)?;
        self.w
            .write_event(Event::Text(BytesText::new(&xml_safe(text))))?;
        self.end(name)
    }

    fn say(&mut self, speech: &Speech, text: &str) -> io::Result<()> {
        let mut attributes = AttributeList::default();
        if let Some(voice) = speech.voice {
            attributes.push("voice", voice);
        }
        if let Some(language) = speech.language {
            attributes.push("language", language);
        }
        self.text_element("Say", attributes.as_slice(), text)
    }
}

fn write_response(out: &mut Out, d: &Decision, ctx: &RenderContext) -> io::Result<()> {
    // A constant: written as is rather than through BytesDecl, which
    // would assemble it anew for every answer.
    out.w
        .get_mut()
        .extend_from_slice(XML_DECLARATION.as_bytes());
    if matches!(d.action, TwimlPlan::SmsEmpty | TwimlPlan::Connect) {
        return out.empty("Response", &[]);
    }
    out.start("Response", &[])?;
    match &d.action {
        TwimlPlan::Reject => out.empty("Reject", &[("reason", "busy")])?,
        TwimlPlan::Blocked => out.empty("Reject", &[("reason", "rejected")])?,
        TwimlPlan::Dial(dial) => write_dial(out, dial, ctx)?,
        TwimlPlan::Stream { url, parameters } => {
            out.start("Connect", &[])?;
            out.start("Stream", &[("url", url)])?;
            for (name, value) in parameters {
                out.empty("Parameter", &[("name", name), ("value", value)])?;
            }
            out.end("Stream")?;
            out.end("Connect")?;
        }
        TwimlPlan::Redirect { url } | TwimlPlan::SmsRedirect { url } => {
            out.text_element("Redirect", &[("method", "POST")], url)?;
        }
        TwimlPlan::Voicemail { greeting } => {
            out.say(&d.speech, greeting)?;
            let mut recording = std::mem::take(&mut out.url);
            recording.clear();
            ctx.push_url(&mut recording, RECORDING_PATH);
            let mut max_length = [0u8; 5];
            let max_length = small_number(VOICEMAIL_MAX_SECONDS, &mut max_length);
            let mut attributes = AttributeList::default();
            attributes.push("action", &recording);
            attributes.push("method", "POST");
            attributes.push("maxLength", max_length);
            attributes.push("playBeep", "true");
            attributes.push("recordingStatusCallback", &recording);
            attributes.push("recordingStatusCallbackMethod", "POST");
            // Only a clinic that asked: Twilio bills transcripts apart.
            let mut transcription = String::new();
            if d.speech.transcribe {
                ctx.push_url(&mut transcription, TRANSCRIPTION_PATH);
                attributes.push("transcribe", "true");
                attributes.push("transcribeCallback", &transcription);
            }
            out.empty("Record", attributes.as_slice())?;
            out.url = recording;
            // Twilio skips the action when nothing was recorded and goes on.
            out.empty("Hangup", &[])?;
        }
        TwimlPlan::Say { text } => {
            out.say(&d.speech, text)?;
            out.empty("Hangup", &[])?;
        }
        TwimlPlan::Hangup => out.empty("Hangup", &[])?,
        TwimlPlan::Confirm {
            prompt,
            continuation,
        } => {
            let mut action = std::mem::take(&mut out.url);
            action.clear();
            ctx.push_url(&mut action, CONFIRM_ANSWER_PATH);
            action.push_str("?c=");
            continuation.encode_into(&mut action);
            let mut seconds = [0u8; 5];
            let seconds = small_number(CONFIRM_SECONDS, &mut seconds);
            out.start(
                "Gather",
                &[
                    ("numDigits", "1"),
                    ("timeout", seconds),
                    ("action", &action),
                    ("method", "POST"),
                ],
            )?;
            out.url = action;
            out.say(&d.speech, prompt)?;
            out.end("Gather")?;
            // No key before the timeout: the member's leg ends.
            out.empty("Hangup", &[])?;
        }
        TwimlPlan::Connect | TwimlPlan::SmsEmpty => {}
        TwimlPlan::SmsMessage { text } => out.text_element("Message", &[], text)?,
    }
    out.end("Response")
}

fn write_dial(out: &mut Out, dial: &DialPlan, ctx: &RenderContext) -> io::Result<()> {
    let mut action = std::mem::take(&mut out.url);
    action.clear();
    // Confirming members' legs fetch their prompt here, with the same
    // continuation as the dial's action.
    let mut confirm = String::new();
    if let Some(continuation) = &dial.continuation {
        ctx.push_url(&mut action, CONTINUE_PATH);
        action.push_str("?c=");
        continuation.encode_into(&mut action);
        if dial.confirm.is_some() {
            ctx.push_url(&mut confirm, CONFIRM_PATH);
            confirm.push_str("?c=");
            continuation.encode_into(&mut confirm);
        }
    }
    let mut timeout_digits = [0u8; 5];
    let timeout = dial.timeout.map(|t| small_number(t, &mut timeout_digits));
    let mut attributes = AttributeList::default();
    if dial.continuation.is_some() {
        attributes.push("action", &action);
        attributes.push("method", "POST");
    }
    if let Some(timeout) = timeout {
        attributes.push("timeout", timeout);
    }
    if let Some(caller_id) = &dial.caller_id {
        attributes.push("callerId", caller_id);
    }
    if dial.answer_on_bridge {
        attributes.push("answerOnBridge", "true");
    }
    out.start("Dial", attributes.as_slice())?;
    out.url = action;
    let noun: &[(&str, &str)] = if confirm.is_empty() {
        &[]
    } else {
        &[("url", &confirm), ("method", "POST")]
    };
    for target in &dial.targets {
        match target {
            DialTarget::Number(number) => out.text_element("Number", noun, number)?,
            DialTarget::Sip(uri) => out.text_element("Sip", noun, uri)?,
            DialTarget::Client(name) => out.text_element("Client", noun, name)?,
        }
    }
    out.end("Dial")
}

/// Up to eight attributes on the stack: the hot path allocates little.
#[derive(Default)]
struct AttributeList<'a> {
    items: [(&'a str, &'a str); 8],
    len: usize,
}

impl<'a> AttributeList<'a> {
    fn push(&mut self, key: &'a str, value: &'a str) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = (key, value);
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[(&'a str, &'a str)] {
        &self.items[..self.len]
    }
}

/// Writes a small number's digits into a buffer, without allocating.
fn small_number(value: u16, buffer: &mut [u8; 5]) -> &str {
    let mut start = buffer.len();
    let mut rest = value;
    loop {
        start -= 1;
        buffer[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 || start == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[start..]).unwrap_or("30")
}

/// Drops characters XML 1.0 cannot hold in any form (escaping does not help).
fn xml_safe(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    // A byte test first, without branches so that it runs over many bytes
    // at once: no control byte and no 0xEF (the lead byte of U+FFFE and
    // U+FFFF) means every character is allowed.
    let suspect = text
        .bytes()
        .fold(false, |seen, b| seen | (b < b' ') | (b == 0xEF));
    if !suspect || text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}
