#!/usr/bin/env python3
"""Signed voice webhooks for the load benchmark (bench/run).

Reads the numbers to call (`e164<TAB>lifecycle` lines, as the seeder writes
them, plus the demo clinic's numbers from fixtures/demo.json) and writes one
request per number, `X-Twilio-Signature<TAB>form body` a line, in a fixed
shuffled order. Each body carries the parameters Twilio sends for an inbound
call (about 700 bytes) and a CallSid of its own.

The signature is computed here, independently of the service's code, as
Twilio's official libraries do: HMAC-SHA1 keyed with the auth token over the
URL followed by every parameter sorted by name, name then value, Base64.
"""

import argparse
import base64
import hashlib
import hmac
import json
import random
import sys
import urllib.parse

ACCOUNT_SID = "AC00000000000000000000000000000000"


def signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def voice_params(index: int, to: str) -> list[tuple[str, str]]:
    caller = f"+1212555{index % 10000:04d}"
    call_sid = "CA" + hashlib.md5(f"bench-call-{index}".encode()).hexdigest()
    place = [("City", "NEW YORK"), ("Country", "US"), ("State", "NY"), ("Zip", "10001")]
    called = [("City", "SAN FRANCISCO"), ("Country", "US"), ("State", "CA"), ("Zip", "94105")]
    params = [
        ("AccountSid", ACCOUNT_SID),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Called", to),
        ("Caller", caller),
        ("Direction", "inbound"),
        ("From", caller),
        ("To", to),
    ]
    for prefix, values in (("Called", called), ("Caller", place), ("From", place), ("To", called)):
        params += [(prefix + name, value) for name, value in values]
    return params


def read_numbers(path: str) -> list[tuple[str, str]]:
    numbers = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                e164, lifecycle = line.split("\t")
                numbers.append((e164, lifecycle))
    return numbers


def demo_numbers(path: str) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as f:
        clinic = json.load(f)
    return [(n["e164"], n["lifecycle"]) for n in clinic["numbers"]]


def line(token: str, url: str, index: int, to: str) -> str:
    params = voice_params(index, to)
    return signature(token, url, params) + "\t" + urllib.parse.urlencode(params) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", required=True, help="e164<TAB>lifecycle lines")
    parser.add_argument("--demo", required=True, help="fixtures/demo.json")
    parser.add_argument("--url", required=True, help="public_base_url + /twilio/voice")
    parser.add_argument("--token", required=True, help="the auth token")
    parser.add_argument("--out", required=True, help="the request file")
    parser.add_argument("--ready-out", required=True,
                        help="one request to the last active synthetic number")
    parser.add_argument("--check-form", help="a fixture form body to sign, for a self-check")
    parser.add_argument("--check-signature", help="its expected signature")
    parser.add_argument("--check-url", default="http://127.0.0.1:8080/twilio/voice",
                        help="the URL the fixture was signed for")
    parser.add_argument("--fresh-out",
                        help="also write --fresh-count requests here, each a call of its own")
    parser.add_argument("--fresh-count", type=int, default=0,
                        help="how many: at least rate x seconds, so that no CallSid repeats")
    args = parser.parse_args()

    if args.check_form is not None:
        with open(args.check_form, encoding="utf-8") as f:
            params = urllib.parse.parse_qsl(f.read().strip(), keep_blank_values=True)
        with open(args.check_signature, encoding="utf-8") as f:
            expected = f.read().strip()
        got = signature(args.token, args.check_url, params)
        if got != expected:
            print(f"requests.py: signing self-check failed: {got} != {expected}", file=sys.stderr)
            return 1

    synthetic = read_numbers(args.numbers)
    numbers = synthetic + demo_numbers(args.demo)
    random.Random(7100143).shuffle(numbers)
    with open(args.out, "w", encoding="utf-8") as out:
        for index, (e164, _) in enumerate(numbers):
            out.write(line(args.token, args.url, index, e164))
    last_active = next(e for e, lifecycle in reversed(synthetic) if lifecycle == "active")
    with open(args.ready_out, "w", encoding="utf-8") as out:
        out.write(line(args.token, args.url, len(numbers), last_active))
    print(f"signed {len(numbers)} voice webhooks ({len(synthetic)} synthetic numbers and the demo's)")
    if args.fresh_out:
        # The request file above is replayed: after its first pass every
        # call is a repeat (to the service's records, a retry). These are
        # production's shape, a new CallSid each (indices past the others').
        first = len(numbers) + 1
        with open(args.fresh_out, "w", encoding="utf-8") as out:
            for i in range(args.fresh_count):
                out.write(line(args.token, args.url, first + i, numbers[i % len(numbers)][0]))
        print(f"signed {args.fresh_count} voice webhooks of as many calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
