#!/usr/bin/env python3
"""Writes the seed corpus of jwt_fuzz (tests/fuzz/corpus/jwt/): valid HS256
tokens under the target's test key (raw mode, first byte = flags), and
claim sets for its sign mode. Deterministic; rerun after changing the key
or the clock in jwt_fuzz.cc:  python3 tests/fuzz/make_jwt_seeds.py"""
import base64, hashlib, hmac, json, os

KEY = b"roomq-fuzz-key-7f3a"  # jwt_fuzz.cc kKey
NOW = 1700000000              # jwt_fuzz.cc kNow
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "jwt")
AUD, ISS = 1 << 1, 1 << 2     # flag bits: audience / issuer configured


def b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


def token(claims, header=None):
    header = header or {"alg": "HS256", "typ": "JWT"}
    signed = b64(json.dumps(header, separators=(",", ":")).encode()) + b"." + \
        b64(json.dumps(claims, separators=(",", ":")).encode())
    return signed + b"." + b64(hmac.new(KEY, signed, hashlib.sha256).digest())


SEEDS = {
    # raw mode (flags bit 0 clear): whole tokens
    "valid_minimal": (0, token({"exp": NOW + 3600})),
    "valid_sub_nbf": (0, token({"sub": "user-1", "exp": NOW + 60, "nbf": NOW - 60, "iat": NOW})),
    "valid_aud_list_iss": (AUD | ISS, token({"exp": NOW + 60, "aud": ["x", "roomq"],
                                             "iss": "https://issuer.example",
                                             "rooms": ["a", "b"], "publish": True})),
    "valid_aud_string": (AUD, token({"exp": NOW + 1.5, "aud": "roomq"})),
    "expired": (0, token({"exp": NOW - 100})),
    "alg_none": (0, b64(b'{"alg":"none"}') + b"." + b64(b'{"exp":1}') + b"."),
    "alg_hs512": (0, token({"exp": NOW + 60}, {"alg": "HS512"})),
    "crit": (0, token({"exp": NOW + 60}, {"alg": "HS256", "crit": ["b64"]})),
    # sign mode (flags bit 0 set): claims (and optionally "header\n")
    "sign_claims": (1, b'{"sub":"s","exp":1700000060,"nbf":1699999999}'),
    "sign_claims_aud_iss": (1 | AUD | ISS,
                            b'{"exp":1700000060,"aud":["roomq"],"iss":"https://issuer.example"}'),
    "sign_header_and_claims": (1, b'{"alg":"HS256","kid":"k1"}\n{"exp":1700000060,"exp":1}'),
    "sign_big_numbers": (1 | (1 << 3), b'{"exp":1e300,"nbf":-1e300}'),
}

os.makedirs(OUT, exist_ok=True)
for name, (flags, body) in SEEDS.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes([flags]) + body)
