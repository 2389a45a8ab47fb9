//! Cost of checking `X-Twilio-Signature` on a typical voice webhook, which
//! the webhook listener pays on every call. Compared with the bare HMAC-SHA1
//! over the same bytes (the floor), so the figure is a ratio that holds on a
//! noisy machine.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use switchboard_twilio::signature::{SigningKey, sign_form, validate_form};

const URL: &str = "https://switchboard.example.com/twilio/voice";
const TOKEN: &[u8] = b"0123456789abcdef0123456789abcdef";

/// The parameters Twilio posts for an inbound call.
fn voice_params() -> Vec<(String, String)> {
    [
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "ringing"),
        (
            "CallToken",
            "%7B%22parentCallInfoToken%22%3A%22eyJhbGciOiJFUzI1NiJ9%22%7D",
        ),
        ("Called", "+14155550100"),
        ("CalledCity", "SAN FRANCISCO"),
        ("CalledCountry", "US"),
        ("CalledState", "CA"),
        ("CalledZip", "94103"),
        ("Caller", "+12125550199"),
        ("CallerCity", "NEW YORK"),
        ("CallerCountry", "US"),
        ("CallerState", "NY"),
        ("CallerZip", "10001"),
        ("Direction", "inbound"),
        ("From", "+12125550199"),
        ("FromCity", "NEW YORK"),
        ("FromCountry", "US"),
        ("FromState", "NY"),
        ("FromZip", "10001"),
        ("To", "+14155550100"),
        ("ToCity", "SAN FRANCISCO"),
        ("ToCountry", "US"),
        ("ToState", "CA"),
        ("ToZip", "94103"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn signature(c: &mut Criterion) {
    let params = voice_params();
    let signature = sign_form(URL, &params, TOKEN);
    let key = SigningKey::new(TOKEN);
    let mut sorted = params.clone();
    sorted.sort();
    let signed_bytes: String = std::iter::once(URL.to_owned())
        .chain(sorted.iter().map(|(k, v)| format!("{k}{v}")))
        .collect();

    c.bench_function("floor: one HMAC-SHA1 over the signed bytes", |b| {
        b.iter(|| {
            let mut mac = Hmac::<Sha1>::new_from_slice(TOKEN).expect("any key length");
            mac.update(black_box(signed_bytes.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });
    c.bench_function("validate_form with a kept SigningKey", |b| {
        b.iter(|| key.validate_form(black_box(URL), black_box(&params), black_box(&signature)))
    });
    c.bench_function("validate_form keying from the token", |b| {
        b.iter(|| {
            validate_form(
                black_box(URL),
                black_box(&params),
                black_box(&signature),
                TOKEN,
            )
        })
    });
}

criterion_group!(benches, signature);
criterion_main!(benches);
