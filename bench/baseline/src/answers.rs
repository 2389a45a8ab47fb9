//! Comparing TwiML answers taken at different instants.
//!
//! A `<Dial action>` URL carries the call's continuation,
//! `?c=1.<step>.<instant base36>.<number id>`, so two answers for the same
//! number a second apart differ only in that instant. The benchmark checks
//! answers with the instant blanked out.

/// `twiml` with the instant of every continuation (`?c=…` or `&c=…`)
/// replaced by `*`; everything else is kept byte for byte.
pub fn without_instants(twiml: &str) -> String {
    let mut out = String::with_capacity(twiml.len());
    let mut rest = twiml;
    while let Some(at) = find_continuation(rest) {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The value runs to the attribute's closing quote (or an `&amp;`).
        let end = tail.find(['"', '&']).unwrap_or(tail.len());
        let (value, after) = tail.split_at(end);
        out.push_str(&blank_instant(value));
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Where the next continuation parameter starts: `c=` right after `?`, `&`
/// or the `;` of an escaped `&amp;`; the index is that of the separator.
fn find_continuation(s: &str) -> Option<usize> {
    s.match_indices("c=")
        .map(|(at, _)| at)
        .find(|&at| at > 0 && matches!(s.as_bytes()[at - 1], b'?' | b'&' | b';'))
        .map(|at| at - 1)
}

/// `1.<step>.<instant>.<id>` → `1.<step>.*.<id>`; other shapes unchanged.
fn blank_instant(value: &str) -> String {
    let parts: Vec<&str> = value.splitn(4, '.').collect();
    match parts.as_slice() {
        [version, step, _instant, id] => format!("{version}.{step}.*.{id}"),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_dials_of_one_number_a_moment_apart_compare_equal() {
        let first = r#"<Response><Dial action="http://h/twilio/voice/continue?c=1.0.tp2cc0.main" method="POST"><Number>+1</Number></Dial></Response>"#;
        let later = r#"<Response><Dial action="http://h/twilio/voice/continue?c=1.0.tp2cc9.main" method="POST"><Number>+1</Number></Dial></Response>"#;
        assert_eq!(without_instants(first), without_instants(later));
    }

    #[test]
    fn a_different_step_or_number_still_differs() {
        let a = without_instants(r#"<Dial action="/c?c=1.0.tp2cc0.main">"#);
        let step = without_instants(r#"<Dial action="/c?c=1.1.tp2cc0.main">"#);
        let number = without_instants(r#"<Dial action="/c?c=1.0.tp2cc0.other">"#);
        assert_ne!(a, step);
        assert_ne!(a, number);
    }

    #[test]
    fn an_answer_without_continuation_is_kept_as_is() {
        let stream = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://x/s"/></Connect></Response>"#;
        assert_eq!(without_instants(stream), stream);
    }

    #[test]
    fn a_continuation_among_other_query_parameters_is_found() {
        assert_eq!(
            without_instants(r#"a="/c?x=1&amp;c=1.2.abc.n7" b"#),
            r#"a="/c?x=1&amp;c=1.2.*.n7" b"#
        );
    }
}
