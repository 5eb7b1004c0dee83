"""Sealed fields: what opens, and everything that must not."""

from __future__ import annotations

import pytest

from shared.crypto import FieldCipher, SealError, new_key

pytestmark = pytest.mark.unit


def test_a_sealed_value_opens_with_its_key_and_context():
    cipher = FieldCipher(new_key())
    sealed = cipher.seal(b"alex@example.org", "supporter:S-1")
    assert b"alex" not in sealed
    assert cipher.open(sealed, "supporter:S-1") == b"alex@example.org"
    assert cipher.seal(b"alex@example.org", "supporter:S-1") != sealed  # a fresh nonce


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s: s, "another record"),
        (lambda s: s[:-1] + bytes([s[-1] ^ 1]), "altered"),
        (lambda s: b"\x02" + s[1:], "version"),
        (lambda s: s[:5], "version"),
    ],
    ids=["other context", "flipped bit", "unknown version", "truncated"],
)
def test_a_value_for_another_record_or_altered_does_not_open(damage, message):
    cipher = FieldCipher(new_key())
    sealed = damage(cipher.seal(b"+1 555 0100", "supporter:S-1"))
    context = "supporter:S-2" if message == "another record" else "supporter:S-1"
    with pytest.raises(SealError, match=message):
        cipher.open(sealed, context)


def test_a_value_sealed_under_another_key_says_so():
    sealed = FieldCipher(new_key()).seal(b"x", "c")
    with pytest.raises(SealError, match="another field key"):
        FieldCipher(new_key()).open(sealed, "c")


@pytest.mark.parametrize("key", ["short", "!!!not base64!!!", ""])
def test_a_key_that_is_not_32_bytes_of_base64_is_refused(key):
    with pytest.raises(ValueError):
        FieldCipher(key)
