"""Personal fields sealed at rest: AES-256-GCM with the field key (`PEERLINE_FIELD_KEY`).

A service seals what would expose a person if its database file or a backup leaked
(a supporter's name and contact details) and stores only the sealed bytes. Each value
is sealed for a context, the id of the record it belongs to, which GCM authenticates:
a sealed value copied into another record does not open there. A sealed value is
`version | key id | nonce | ciphertext and tag`; the key id (the first bytes of the
key's SHA-256) makes a value sealed under another key fail with a clear error rather
than as a forged one, and lets a later version read values sealed under a retired key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
KEY_BYTES = 32
KEY_ID_BYTES = 4
NONCE_BYTES = 12
_HEADER = len(VERSION) + KEY_ID_BYTES + NONCE_BYTES


class SealError(Exception):
    """A sealed value that cannot be opened: another key, another record, or altered."""


def new_key() -> str:
    """A fresh field key as text (URL-safe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


class FieldCipher:
    def __init__(self, key_text: str) -> None:
        try:
            key = base64.urlsafe_b64decode(key_text.encode())
        except (binascii.Error, ValueError):
            raise ValueError("the field key is not URL-safe base64") from None
        if len(key) != KEY_BYTES:
            raise ValueError(f"the field key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self._key_id = hashlib.sha256(key).digest()[:KEY_ID_BYTES]

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, context.encode())
        return VERSION + self._key_id + nonce + sealed

    def open(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < _HEADER or sealed[:1] != VERSION:
            raise SealError("not a sealed value of a known version")
        if sealed[1 : 1 + KEY_ID_BYTES] != self._key_id:
            raise SealError("sealed under another field key")
        nonce = sealed[1 + KEY_ID_BYTES : _HEADER]
        try:
            return self._aead.decrypt(nonce, sealed[_HEADER:], context.encode())
        except InvalidTag:
            raise SealError("sealed for another record, or altered") from None
