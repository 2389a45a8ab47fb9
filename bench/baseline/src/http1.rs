//! Just enough HTTP/1.1 for the load generator: signed webhook requests as
//! ready bytes, and a parser for response heads (keep-alive, fixed
//! `Content-Length` bodies, which is what actix-web sends for TwiML).

/// One line of a request file: `signature<TAB>form body`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedForm {
    pub signature: String,
    pub body: String,
}

impl SignedForm {
    /// Parses `signature<TAB>body`; `None` for anything else.
    pub fn parse_line(line: &str) -> Option<SignedForm> {
        let (signature, body) = line.split_once('\t')?;
        (!signature.is_empty() && !body.contains('\t')).then(|| SignedForm {
            signature: signature.to_owned(),
            body: body.to_owned(),
        })
    }

    /// The whole request, ready to write on a keep-alive connection.
    pub fn to_request(&self, host: &str, path: &str) -> Vec<u8> {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\n\
             X-Twilio-Signature: {}\r\nContent-Length: {}\r\n\r\n{}",
            self.signature,
            self.body.len(),
            self.body
        )
        .into_bytes()
    }
}

/// What the load generator needs of a response head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    /// Bytes of the head, blank line included: the body starts there.
    pub head_len: usize,
    pub content_length: usize,
    /// The server said `Connection: close`.
    pub closes: bool,
}

/// Why a response cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// Not `HTTP/1.x NNN …`.
    BadStatusLine,
    /// A chunked or length-less body: not what the webhook sends.
    NoContentLength,
    /// A header that is not UTF-8 or not `name: value`.
    BadHeader,
}

/// Parses the head at the start of `buf`: `Ok(None)` while it is incomplete.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<ResponseHead>, HeadError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| HeadError::BadHeader)?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or(HeadError::BadStatusLine)?;
    let mut words = status_line.split(' ');
    let version = words.next().unwrap_or_default();
    let status = words
        .next()
        .filter(|code| code.len() == 3)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|_| version.starts_with("HTTP/1."))
        .ok_or(HeadError::BadStatusLine)?;
    let mut content_length = None;
    let mut closes = false;
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(HeadError::BadHeader)?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = Some(value.parse().map_err(|_| HeadError::BadHeader)?);
        } else if name.eq_ignore_ascii_case("connection") {
            closes = value.eq_ignore_ascii_case("close");
        }
    }
    Ok(Some(ResponseHead {
        status,
        head_len: end + 4,
        content_length: content_length.ok_or(HeadError::NoContentLength)?,
        closes,
    }))
}

impl std::fmt::Display for HeadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HeadError::BadStatusLine => "not an HTTP/1.x status line",
            HeadError::NoContentLength => "a response without Content-Length",
            HeadError::BadHeader => "a malformed response header",
        })
    }
}

impl std::error::Error for HeadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_file_line_becomes_a_signed_form_post() {
        let form = SignedForm::parse_line("c2ln\tTo=%2B1&From=%2B2").expect("parses");
        let bytes =
            String::from_utf8(form.to_request("127.0.0.1:1", "/twilio/voice")).expect("ascii");
        assert!(bytes.starts_with("POST /twilio/voice HTTP/1.1\r\n"));
        assert!(bytes.contains("\r\nX-Twilio-Signature: c2ln\r\n"));
        assert!(bytes.contains("\r\nContent-Length: 17\r\n"));
        assert!(bytes.ends_with("\r\n\r\nTo=%2B1&From=%2B2"));
    }

    #[test]
    fn a_line_without_signature_is_refused() {
        assert_eq!(SignedForm::parse_line("To=%2B1"), None);
        assert_eq!(SignedForm::parse_line("\tTo=%2B1"), None);
    }

    #[test]
    fn a_complete_head_gives_status_length_and_where_the_body_starts() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/xml\r\n\r\nhello";
        let head = parse_response_head(raw).expect("valid").expect("complete");
        assert_eq!(head.status, 200);
        assert_eq!(head.content_length, 5);
        assert_eq!(&raw[head.head_len..], b"hello");
        assert!(!head.closes);
    }

    #[test]
    fn an_incomplete_head_asks_for_more_bytes() {
        assert_eq!(
            parse_response_head(b"HTTP/1.1 200 OK\r\ncontent-le"),
            Ok(None)
        );
    }

    #[test]
    fn a_chunked_response_is_refused() {
        let raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
        assert_eq!(parse_response_head(raw), Err(HeadError::NoContentLength));
    }

    #[test]
    fn garbage_is_not_a_status_line() {
        assert_eq!(
            parse_response_head(b"SSH-2.0\r\n\r\n"),
            Err(HeadError::BadStatusLine)
        );
    }
}
