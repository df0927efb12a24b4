"""Settings read from the environment, with honest defaults for local development."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about where it runs.

    `base_domain` lets a tenant be reached at `{slug}.{base_domain}`; `/t/{slug}/` always
    works for local development. `trusted_proxies` are the IPs/networks whose
    X-Forwarded-For and X-Forwarded-Proto we believe (none by default).
    """

    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'reportal.sqlite3'}"
    secret_key: str = "dev-secret-change-me"
    base_domain: str = "localhost"
    public_url: str = "http://127.0.0.1:8000"
    media_dir: Path = REPO_ROOT / "var" / "media"
    static_build_dir: Path = REPO_ROOT / "static" / "build"
    tenants_dir: Path = REPO_ROOT / "tenants"
    themes_dir: Path = REPO_ROOT / "themes"
    max_photo_bytes: int = 10 * 1024 * 1024
    https_only_cookies: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    mail_from: str = "Reportal <no-reply@localhost>"
    background_sender: bool = False
    rate_limits: bool = True
    trusted_proxies: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            database_url=env.get("DATABASE_URL", defaults.database_url),
            secret_key=env.get("SECRET_KEY", defaults.secret_key),
            base_domain=env.get("BASE_DOMAIN", defaults.base_domain).lower(),
            public_url=env.get("PUBLIC_URL", defaults.public_url).rstrip("/"),
            media_dir=Path(env.get("MEDIA_DIR", defaults.media_dir)),
            static_build_dir=Path(env.get("STATIC_BUILD_DIR", defaults.static_build_dir)),
            tenants_dir=Path(env.get("TENANTS_DIR", defaults.tenants_dir)),
            themes_dir=Path(env.get("THEMES_DIR", defaults.themes_dir)),
            max_photo_bytes=int(env.get("MAX_PHOTO_BYTES", defaults.max_photo_bytes)),
            https_only_cookies=env.get("HTTPS_ONLY_COOKIES", "") == "1",
            smtp_host=env.get("SMTP_HOST", defaults.smtp_host),
            smtp_port=int(env.get("SMTP_PORT", defaults.smtp_port)),
            mail_from=env.get("MAIL_FROM", defaults.mail_from),
            background_sender=env.get("BACKGROUND_SENDER", "") == "1",
            rate_limits=env.get("RATE_LIMITS", "1") != "0",
            trusted_proxies=tuple(p.strip() for p in env.get("TRUSTED_PROXIES", "").split(",")
                                  if p.strip()),
        )
