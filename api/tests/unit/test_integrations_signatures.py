"""The chat apps' request proofs, checked on their own documented examples."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.integrations.signatures import (
    SignatureError,
    matching_token,
    slack_signature,
    verify_discord,
    verify_slack,
)
from app.integrations.state import InvalidState, StateCodec

# Slack's documented example ("Verifying requests from Slack"): secret, timestamp,
# body and the signature Slack sent with them.
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
SLACK_TIMESTAMP = "1531420618"
SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
SLACK_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
THEN = float(SLACK_TIMESTAMP)


def test_slack_signs_its_documented_example_as_documented() -> None:
    assert slack_signature(SLACK_SECRET, SLACK_TIMESTAMP, SLACK_BODY) == SLACK_SIGNATURE
    verify_slack(SLACK_SECRET, SLACK_TIMESTAMP, SLACK_SIGNATURE, SLACK_BODY, now=THEN + 299)


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now"),
    [
        (SLACK_TIMESTAMP, SLACK_SIGNATURE, SLACK_BODY, THEN + 301),  # stale
        (SLACK_TIMESTAMP, SLACK_SIGNATURE, SLACK_BODY + b"&x=1", THEN),  # tampered
        (SLACK_TIMESTAMP, SLACK_SIGNATURE.upper(), SLACK_BODY, THEN),
        (SLACK_TIMESTAMP, "", SLACK_BODY, THEN),
        ("", SLACK_SIGNATURE, SLACK_BODY, THEN),
        ("1531420618.5", SLACK_SIGNATURE, SLACK_BODY, THEN),
        (SLACK_TIMESTAMP, "v0=\udcff", SLACK_BODY, THEN),
    ],
)
def test_slack_refuses_what_it_did_not_sign(
    timestamp: str, signature: str, body: bytes, now: float
) -> None:
    with pytest.raises(SignatureError):
        verify_slack(SLACK_SECRET, timestamp, signature, body, now=now)


def test_discord_ed25519_over_timestamp_and_body() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw().hex()
    body = b'{"type":1}'
    signature = key.sign(b"1700000000" + body).hex()
    verify_discord(public, "1700000000", signature, body, now=1_700_000_100)
    for args in [
        ("1700000001", signature, body),  # another timestamp
        ("1700000000", signature, body + b" "),
        ("1700000000", signature[:-2], body),
        ("1700000000", "not hex", body),
    ]:
        with pytest.raises(SignatureError):
            verify_discord(public, *args, now=1_700_000_100)
    with pytest.raises(SignatureError):
        verify_discord(public, "1700000000", signature, body, now=1_700_000_000 + 301)


def test_tokens_match_only_whole_configured_ones() -> None:
    assert matching_token(["a-token", "other"], "other")
    assert not matching_token(["a-token"], "a-toke")
    assert not matching_token(["a-token"], "")
    assert not matching_token(["a-token"], "a-token\udcff")


def test_a_state_is_only_read_back_as_issued() -> None:
    states = StateCodec("k" * 32)
    issued = states.encode({"w": "日本語 " * 100, "p": 3})
    assert states.decode(issued) == {"w": "日本語 " * 100, "p": 3}
    assert len(issued) < 2000  # fits Slack's button value
    with pytest.raises(InvalidState):
        StateCodec("another key" * 3).decode(issued)
    with pytest.raises(InvalidState):
        states.decode(issued[:-4] + "AAAA")


@pytest.mark.parametrize("key", ["abc", "z" * 64, "a" * 63, "a" * 65])
def test_a_discord_public_key_that_is_not_one_stops_the_start(key: str) -> None:
    from app.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="DISCORD_PUBLIC_KEY"):
        load_settings(discord_public_key=key)


def test_a_discord_public_key_is_read_in_either_case() -> None:
    from app.config import load_settings

    assert load_settings(discord_public_key="AB" * 32).discord_public_key == "ab" * 32
