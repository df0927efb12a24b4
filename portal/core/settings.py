"""Settings read from the environment, with honest defaults for local development.

Outside development mode (`REPORTAL_ENV=development`) the server needs a real `SECRET_KEY`
and sends its session cookie only over HTTPS; in development mode a missing key is made once
and kept in `var/`, so restarts do not sign everybody out.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from portal.core.errors import N_, ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV_SECRET_FILE = REPO_ROOT / "var" / "dev-secret-key"
# 32 random bytes are 43 characters of URL-safe base64 (and 64 of hex).
MIN_SECRET_LENGTH = 43
PUBLIC_SECRETS = frozenset({"dev-secret-change-me"})


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about where it runs.

    `base_domain` lets a tenant be reached at `{slug}.{base_domain}`; `/t/{slug}/` always
    works for local development. `https_only_cookies` left as None means "the mode's
    default": Secure cookies unless `development`. `trusted_proxies` are the IPs/networks
    whose X-Forwarded-For and X-Forwarded-Proto we believe (none by default).
    `database_replica_url` is a read replica for public reads (empty: none).
    """

    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'reportal.sqlite3'}"
    database_replica_url: str = ""
    secret_key: str = ""
    development: bool = False
    base_domain: str = "localhost"
    public_url: str = "http://127.0.0.1:8000"
    media_dir: Path = REPO_ROOT / "var" / "media"
    static_build_dir: Path = REPO_ROOT / "static" / "build"
    tenants_dir: Path = REPO_ROOT / "tenants"
    themes_dir: Path = REPO_ROOT / "themes"
    max_photo_bytes: int = 10 * 1024 * 1024
    https_only_cookies: bool | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    mail_from: str = "Reportal <no-reply@localhost>"
    background_sender: bool = False
    rate_limits: bool = True
    trusted_proxies: tuple[str, ...] = ()
    redis_url: str = ""  # rate limits in Redis instead of the database (portal/web/ratelimit.py)
    # Handlers running at once in one process (the rest wait their turn, first come first
    # served). Handlers are CPU-bound Python under one GIL, so more threads only take turns
    # with it, more slowly: see `portal.worker.lifespan`.
    request_threads: int = 2
    # Open311 `media_url` may name private or loopback addresses (a city's intranet): off.
    open311_media_private: bool = False
    # Encrypts residents' phone numbers (reports by text); a Fernet key. Empty: derived from
    # SECRET_KEY, so changing that key makes stored numbers unreadable (`portal.sms.phones`).
    sms_phone_key: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.https_only_cookies is None:
            object.__setattr__(self, "https_only_cookies", not self.development)
        if self.development and not self.secret_key:
            object.__setattr__(self, "secret_key", secrets.token_urlsafe(32))

    def require_secret(self) -> None:
        """Refuse to serve with a missing, short or published secret outside development."""
        if self.development:
            return
        if len(self.secret_key) < MIN_SECRET_LENGTH or self.secret_key in PUBLIC_SECRETS:
            raise ConfigError(N_(
                "SECRET_KEY must be at least 32 random bytes (43 or more characters, e.g. "
                "from: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'); "
                "set REPORTAL_ENV=development to run locally without one"))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        development = env.get("REPORTAL_ENV", "") == "development"
        secret_key = env.get("SECRET_KEY", "")
        if development and not secret_key:
            secret_key = development_secret(DEV_SECRET_FILE)
        return cls(
            database_url=env.get("DATABASE_URL", defaults.database_url),
            database_replica_url=env.get("DATABASE_REPLICA_URL", "").strip(),
            secret_key=secret_key,
            development=development,
            base_domain=env.get("BASE_DOMAIN", defaults.base_domain).lower(),
            public_url=env.get("PUBLIC_URL", defaults.public_url).rstrip("/"),
            media_dir=Path(env.get("MEDIA_DIR", defaults.media_dir)),
            static_build_dir=Path(env.get("STATIC_BUILD_DIR", defaults.static_build_dir)),
            tenants_dir=Path(env.get("TENANTS_DIR", defaults.tenants_dir)),
            themes_dir=Path(env.get("THEMES_DIR", defaults.themes_dir)),
            max_photo_bytes=int(env.get("MAX_PHOTO_BYTES", defaults.max_photo_bytes)),
            https_only_cookies=_flag(env.get("HTTPS_ONLY_COOKIES", "")),
            smtp_host=env.get("SMTP_HOST", defaults.smtp_host),
            smtp_port=int(env.get("SMTP_PORT", defaults.smtp_port)),
            mail_from=env.get("MAIL_FROM", defaults.mail_from),
            background_sender=env.get("BACKGROUND_SENDER", "") == "1",
            rate_limits=env.get("RATE_LIMITS", "1") != "0",
            trusted_proxies=tuple(p.strip() for p in env.get("TRUSTED_PROXIES", "").split(",")
                                  if p.strip()),
            redis_url=env.get("REDIS_URL", "").strip(),
            request_threads=_positive(env, "REQUEST_THREADS", defaults.request_threads),
            open311_media_private=env.get("OPEN311_MEDIA_PRIVATE", "") == "1",
            sms_phone_key=env.get("SMS_PHONE_KEY", "").strip(),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(N_("%(name)s must be a whole number, 1 or more, not %(value)r"),
                          name=name, value=text)
    return int(text)


def _flag(text: str) -> bool | None:
    """`1`/`0` (or true/false, yes/no, on/off); empty means the default."""
    value = text.strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(N_("HTTPS_ONLY_COOKIES must be 1 or 0, not %(value)r"), value=text)


def development_secret(path: Path) -> str:
    """The development secret kept in `path`, made (readable by its owner only) if missing."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key
