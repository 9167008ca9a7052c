"""Encryption of stored OAuth tokens (Fernet; several keys as MultiFernet).

The key comes from `XERO_SYNC_ENCRYPTION_KEY`: one key, or several comma-separated, newest
first. New ciphertexts use the newest key; every listed key can still decrypt, so a new key can
be rolled out without partners reconnecting (`xero-sync keys rotate` then re-encrypts the stored
tokens with the newest key, after which the old key can be dropped). For the embedded one-machine
setup, when it is unset a key file `home/encryption.key` (mode 0600, created race-free) is used or
created, and we say so once on stderr so nobody mistakes it for a production setup.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from xero_sync.config import ENCRYPTION_KEY_ENV, ConfigError
from xero_sync.store.private_files import read_or_create_secret

if TYPE_CHECKING:
    from xero_sync.config import Settings

ENV_VAR = ENCRYPTION_KEY_ENV
KEY_FILE = "encryption.key"

_announced: set[Path] = set()


class TokenCipher:
    """Encrypts/decrypts token strings. Its repr never shows the key."""

    def __init__(self, key: str | bytes, *, source: str = ENV_VAR) -> None:
        text = key.decode() if isinstance(key, bytes) else key
        keys = [k.strip() for k in text.split(",")]
        fernets = []
        for position, one in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(one.encode()))
            except (ValueError, TypeError):
                which = f" (key {position} of {len(keys)})" if len(keys) > 1 else ""
                raise ConfigError(
                    f"{source}{which} is not a valid Fernet key (expected 32 url-safe base64-encoded "
                    "bytes; generate one with `xero-sync keys generate`)"
                ) from None
        self._fernet = MultiFernet(fernets)  # encrypts with the first (newest), decrypts with any
        self.key_count = len(fernets)
        self._source = source

    def __repr__(self) -> str:
        return f"TokenCipher(source={self._source!r})"

    @classmethod
    def generate_key(cls) -> str:
        return Fernet.generate_key().decode()

    @classmethod
    def for_settings(cls, settings: "Settings") -> "TokenCipher":
        """The cipher of XERO_SYNC_ENCRYPTION_KEY, else of the key file in XERO_SYNC_HOME."""
        return cls.from_key_or_file(settings.encryption_key, settings.home)

    @classmethod
    def from_key_or_file(cls, key: str | None, home: Path | None) -> "TokenCipher":
        """`key` (the variable's value), else the key file in `home`, created when missing."""
        if key:
            return cls(key.strip(), source=ENV_VAR)
        if home is None:
            raise ConfigError(f"{ENV_VAR} is not set and there is no home folder for its key file")
        path = Path(home) / KEY_FILE
        try:
            key = read_or_create_secret(path, cls.generate_key)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{ENV_VAR} is not set and the key file {path} cannot be used: {exc}") from None
        resolved = path.resolve()
        if resolved not in _announced:
            _announced.add(resolved)
            print(
                f"xero-sync: {ENV_VAR} is not set; using the key file {resolved} "
                "(set the variable in production)",
                file=sys.stderr,
            )
        return cls(key, source=f"{ENV_VAR} (key file {resolved})")

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def rotate(self, token: str) -> str:
        """The same plaintext, encrypted with the newest key (ConfigError if no key opens it)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                f"stored tokens cannot be decrypted with any key from {self._source} "
                "(keep the old key listed after the new one until `xero-sync keys rotate` has run)"
            ) from None

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                f"stored tokens cannot be decrypted with the key from {self._source} "
                "(was the encryption key changed?)"
            ) from None
