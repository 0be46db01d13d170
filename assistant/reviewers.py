"""Staff credentials for the review page: salted scrypt hashes, compared in constant time.

From ``ui.review_users`` ('name:password,…', hashed in memory at start) and/or a file of
``name:salt:hash`` lines (``assistant review add-user NAME`` writes it; no password is stored).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from assistant import paths
from assistant.errors import ConfigError
from assistant.settings import Settings

logger = logging.getLogger(__name__)
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~20 ms per check on this CPU


def _hash(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def hash_line(name: str, password: str) -> str:
    salt = secrets.token_bytes(16)
    return f"{name}:{base64.b64encode(salt).decode()}:{base64.b64encode(_hash(password, salt)).decode()}"


@dataclass
class Reviewers:
    entries: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # name -> (salt, hash)
    _dummy: tuple[bytes, bytes] = field(default_factory=lambda: (b"0" * 16, _hash("x", b"0" * 16)))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def add(self, name: str, password: str) -> None:
        salt = secrets.token_bytes(16)
        self.entries[name] = (salt, _hash(password, salt))

    def check(self, name: str, password: str) -> bool:
        """Constant time in the password, and the same work for an unknown name."""
        salt, expected = self.entries.get(name, self._dummy)
        ok = hmac.compare_digest(_hash(password, salt), expected)
        return ok and name in self.entries

    def names(self) -> list[str]:
        return sorted(self.entries)


def users_file(settings: Settings) -> Path:
    raw = settings.ui.review_users_file
    return Path(raw).expanduser() if raw else paths.home(settings) / "reviewers.txt"


def load_reviewers(settings: Settings) -> Reviewers:
    out = Reviewers()
    raw = settings.ui.review_users
    raw = raw.get_secret_value() if hasattr(raw, "get_secret_value") else str(raw or "")
    for entry in raw.split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, password = entry.partition(":")
        if not sep or not name.strip() or not password:
            logger.warning("ui.review_users: ignoring an entry without 'name:password'")
            continue
        out.add(name.strip(), password)
    path = users_file(settings)
    if path.exists():
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            try:
                name, salt, digest = line.strip().split(":")
                out.entries[name] = (base64.b64decode(salt), base64.b64decode(digest))
            except ValueError:
                raise ConfigError(
                    f"{path}:{no}: not a 'name:salt:hash' line",
                    hint="Write it with `assistant review add-user NAME`.",
                ) from None
    return out


def add_user(settings: Settings, name: str, password: str) -> Path:
    """Add or replace NAME in the hashed credentials file (written 0600, atomically)."""
    if not name.strip() or ":" in name or "," in name:
        raise ConfigError("a reviewer name must be non-empty and hold no ':' or ','")
    if len(password) < 12:
        raise ConfigError("the password must have at least 12 characters")
    path = users_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        ln
        for ln in (path.read_text(encoding="utf-8").splitlines() if path.exists() else [])
        if ln.strip() and not ln.startswith(f"{name}:")
    ]
    lines.append(hash_line(name, password))
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
