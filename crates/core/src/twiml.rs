//! TwiML rendering of a [`Decision`] with quick-xml.
//!
//! The output starts exactly with the XML declaration (Twilio answers error
//! 12100 to anything before it), has a `<Response>` root for voice and
//! messaging alike, and escapes every text and attribute. Characters XML 1.0
//! cannot carry at all (control characters) are dropped, so the result always
//! parses. Action URLs are built from the configured public base URL, never
//! from the Host a request came with (Twilio signs the public URL).

use std::borrow::Cow;
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use crate::resolve::{Decision, DialPlan, DialTarget, Speech, TwimlPlan};

/// The declaration every answer starts with.
pub const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// Path of the `<Dial action>` callback, under the public base URL.
pub const CONTINUE_PATH: &str = "/twilio/voice/continue";
/// Path of the voicemail `<Record>` callbacks, under the public base URL.
pub const RECORDING_PATH: &str = "/twilio/voice/recording";
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
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_base_url.trim_end_matches('/'))
    }
}

/// Renders a decision as TwiML.
pub fn render(d: &Decision, ctx: &RenderContext) -> String {
    let mut writer = Writer::new(Vec::with_capacity(512));
    match write_response(&mut writer, d, ctx) {
        Ok(()) => String::from_utf8(writer.into_inner())
            .unwrap_or_else(|_| fallback_response().to_owned()),
        // Writing into a Vec cannot fail; answer something safe all the same.
        Err(_) => fallback_response().to_owned(),
    }
}

fn fallback_response() -> &'static str {
    r#"<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>"#
}

type Xml = Writer<Vec<u8>>;

fn write_response(w: &mut Xml, d: &Decision, ctx: &RenderContext) -> io::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    if matches!(d.action, TwimlPlan::SmsEmpty) {
        return w.write_event(Event::Empty(BytesStart::new("Response")));
    }
    w.write_event(Event::Start(BytesStart::new("Response")))?;
    match &d.action {
        TwimlPlan::Reject => empty(w, "Reject", &[("reason", "busy")])?,
        TwimlPlan::Dial(dial) => write_dial(w, dial, ctx)?,
        TwimlPlan::Stream { url, parameters } => {
            start(w, "Connect", &[])?;
            start(w, "Stream", &[("url", url)])?;
            for (name, value) in parameters {
                empty(w, "Parameter", &[("name", name), ("value", value)])?;
            }
            end(w, "Stream")?;
            end(w, "Connect")?;
        }
        TwimlPlan::Redirect { url } | TwimlPlan::SmsRedirect { url } => {
            text_element(w, "Redirect", &[("method", "POST")], url)?;
        }
        TwimlPlan::Voicemail { greeting } => {
            say(w, &d.speech, greeting)?;
            let recording = ctx.url(RECORDING_PATH);
            let max_length = VOICEMAIL_MAX_SECONDS.to_string();
            empty(
                w,
                "Record",
                &[
                    ("action", &recording),
                    ("method", "POST"),
                    ("maxLength", &max_length),
                    ("playBeep", "true"),
                    ("recordingStatusCallback", &recording),
                    ("recordingStatusCallbackMethod", "POST"),
                ],
            )?;
            // Twilio skips the action when nothing was recorded and goes on.
            empty(w, "Hangup", &[])?;
        }
        TwimlPlan::Say { text } => {
            say(w, &d.speech, text)?;
            empty(w, "Hangup", &[])?;
        }
        TwimlPlan::Hangup => empty(w, "Hangup", &[])?,
        TwimlPlan::SmsMessage { text } => text_element(w, "Message", &[], text)?,
        TwimlPlan::SmsEmpty => {}
    }
    end(w, "Response")
}

fn write_dial(w: &mut Xml, dial: &DialPlan, ctx: &RenderContext) -> io::Result<()> {
    let action = dial
        .continuation
        .as_ref()
        .map(|c| format!("{}?c={}", ctx.url(CONTINUE_PATH), c.encode()));
    let mut timeout_digits = [0u8; 5];
    let timeout = dial.timeout.map(|t| small_number(t, &mut timeout_digits));
    let mut attributes = AttributeList::default();
    if let Some(action) = &action {
        attributes.push("action", action);
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
    start(w, "Dial", attributes.as_slice())?;
    for target in &dial.targets {
        match target {
            DialTarget::Number(number) => text_element(w, "Number", &[], number)?,
            DialTarget::Sip(uri) => text_element(w, "Sip", &[], uri)?,
            DialTarget::Client(name) => text_element(w, "Client", &[], name)?,
        }
    }
    end(w, "Dial")
}

fn say(w: &mut Xml, speech: &Speech, text: &str) -> io::Result<()> {
    let mut attributes = AttributeList::default();
    if let Some(voice) = &speech.voice {
        attributes.push("voice", voice);
    }
    if let Some(language) = &speech.language {
        attributes.push("language", language);
    }
    text_element(w, "Say", attributes.as_slice(), text)
}

/// Up to six attributes on the stack: the hot path allocates little.
#[derive(Default)]
struct AttributeList<'a> {
    items: [(&'a str, &'a str); 6],
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

fn element<'a>(name: &'a str, attributes: &[(&str, &str)]) -> BytesStart<'a> {
    let mut element = BytesStart::new(name);
    for (key, value) in attributes {
        element.push_attribute((*key, xml_safe(value).as_ref()));
    }
    element
}

fn start(w: &mut Xml, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
    w.write_event(Event::Start(element(name, attributes)))
}

fn empty(w: &mut Xml, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
    w.write_event(Event::Empty(element(name, attributes)))
}

fn end(w: &mut Xml, name: &str) -> io::Result<()> {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn text_element(
    w: &mut Xml,
    name: &str,
    attributes: &[(&str, &str)],
    text: &str,
) -> io::Result<()> {
    start(w, name, attributes)?;
    w.write_event(Event::Text(BytesText::new(&xml_safe(text))))?;
    end(w, name)
}

/// Drops characters XML 1.0 cannot hold in any form (escaping does not help).
fn xml_safe(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
    };
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}
