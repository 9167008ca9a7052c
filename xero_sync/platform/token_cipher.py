"""Encryption of stored OAuth tokens (Fernet).

The key comes from `XERO_SYNC_ENCRYPTION_KEY`. For the embedded one-machine setup, when it is
unset a key file `home/encryption.key` (mode 0600) is used or created, and we say so once on
stderr so nobody mistakes it for a production setup.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from xero_sync.config import ConfigError

ENV_VAR = "XERO_SYNC_ENCRYPTION_KEY"
KEY_FILE = "encryption.key"

_announced: set[Path] = set()


class TokenCipher:
    """Encrypts/decrypts token strings. Its repr never shows the key."""

    def __init__(self, key: str | bytes, *, source: str = ENV_VAR) -> None:
        try:
            self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
        except (ValueError, TypeError):
            raise ConfigError(
                f"{source} is not a valid Fernet key (expected 32 url-safe base64-encoded bytes; "
                "generate one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)"
            ) from None
        self._source = source

    def __repr__(self) -> str:
        return f"TokenCipher(source={self._source!r})"

    @classmethod
    def generate_key(cls) -> str:
        return Fernet.generate_key().decode()

    @classmethod
    def from_env(cls, home: Path, env: dict[str, str] | None = None) -> "TokenCipher":
        env = os.environ if env is None else env
        key = env.get(ENV_VAR)
        if key:
            return cls(key.strip(), source=ENV_VAR)
        path = Path(home) / KEY_FILE
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Create with 0600 from the start so the key is never world-readable.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(Fernet.generate_key().decode())
        resolved = path.resolve()
        if resolved not in _announced:
            _announced.add(resolved)
            print(
                f"xero-sync: {ENV_VAR} is not set; using the key file {resolved} "
                "(set the variable in production)",
                file=sys.stderr,
            )
        return cls(path.read_text().strip(), source=f"{ENV_VAR} (key file {resolved})")

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                f"stored tokens cannot be decrypted with the key from {self._source} "
                "(was the encryption key changed?)"
            ) from None
