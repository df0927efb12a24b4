"""The blocks of `portal.json` and `body.json` that are more than a value, checked: embedding
origins, the geocoder, a body's Open311 link and a portal's SMS numbers. The loader
(`tenant_files`) reads them from files; the staff and operator forms check typed values with
the same functions, so a setting means the same wherever it was set.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from portal.core.errors import N_, ConfigError

HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
OPEN311_UPDATES = ("requests", "servicerequestupdates")


def normalise_origin(origin: str) -> str:
    """'https://Example.org/news/' -> 'https://example.org'; keeps a non-default port."""
    raw = origin.strip()
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = -1
    # The origin goes into a CSP header: only a plain host name (or IPv4) and port may pass.
    if parts.scheme not in ("http", "https") or not HOST.match(host) or port == -1:
        raise ConfigError(N_("embedding origin %(origin)r is not an http(s) origin"),
                          origin=origin)
    default = {"http": 80, "https": 443}[parts.scheme]
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


GEOCODERS = ("gazetteer", "nominatim", "photon")


def geocoder_setting(value: object, where: str) -> dict:
    """`"geocoder"` of portal.json: the built-in gazetteer unless a backend is named.

    {"backend": "nominatim", "url": "https://nominatim.example.org", "email": "ops@…"} or
    {"backend": "photon", "url": "https://photon.example.org"}; the gazetteer always answers
    first, the backend adds what the portal's own places lack (see `portal.places.backends`).
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(N_("geocoder must be an object like {\"backend\": \"gazetteer\"}"),
                          where=where)
    backend = value.get("backend", "gazetteer")
    if backend not in GEOCODERS:
        raise ConfigError(N_("geocoder backend %(backend)r is not one of %(backends)s"),
                          where=where, backend=backend, backends=", ".join(GEOCODERS))
    if backend == "gazetteer":
        return {}
    url = str(value.get("url", "")).strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(N_("geocoder %(backend)s needs a url starting with http(s)://"),
                          where=where, backend=backend)
    setting = {"backend": backend, "url": url}
    if email := str(value.get("email", "")).strip():
        setting["email"] = email
    return setting


def open311_config(raw: object, where: str) -> dict | None:
    """A body's `open311` block, checked and with its defaults; None when there is none.

    The API key is never in the file: `api_key_env` names the environment variable the
    worker reads it from when it sends.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(N_("expected an object with endpoint, api_key_env and the rest"),
                          where=where)
    endpoint = str(raw.get("endpoint", "")).strip().rstrip("/")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
            or parts.query or parts.fragment:
        raise ConfigError(N_("endpoint %(url)r must be an http(s) base address, like "
                             "https://311.example.org/open311/v2"), where=where, url=endpoint)
    env_name = str(raw.get("api_key_env", ""))
    if not ENV_NAME.match(env_name):
        raise ConfigError(N_("api_key_env must name an environment variable, like "
                             "CITY_OPEN311_KEY: the key itself never goes in a file"),
                          where=where)
    codes = raw.get("service_codes") or {}
    updates = raw.get("updates", "requests")
    if not isinstance(codes, dict) or not all(isinstance(v, str) and v for v in codes.values()):
        raise ConfigError(N_("service_codes must map our codes to the body's, like "
                             "{\"pothole\": \"POT\"}"), where=where)
    if updates not in OPEN311_UPDATES:
        raise ConfigError(N_("updates must be one of %(choices)s"), where=where,
                          choices=", ".join(OPEN311_UPDATES))
    return {"endpoint": endpoint, "jurisdiction_id": str(raw.get("jurisdiction_id", "")),
            "api_key_env": env_name, "service_codes": {str(k): v for k, v in codes.items()},
            "email": bool(raw.get("email", False)), "updates": updates}


SMS_GATEWAYS = ("twilio", "smssync")
PHONE = re.compile(r"^\+?[0-9]{3,15}$")


def sms_numbers(raw: object, where: str) -> list[dict]:
    """A portal's `sms` list: its phone numbers for reports by text, each on one gateway.

    Secrets are never in the file: `secret_env` names the environment variable holding the
    gateway's secret (Twilio's auth token, SMSSync's shared secret); Twilio also needs
    `account_env` (the account SID) to send.
    """
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ConfigError(N_("sms must be a list of numbers, like [{\"number\": "
                             "\"+12035550100\", \"gateway\": \"twilio\", ...}]"), where=where)
    numbers = []
    for item in raw:
        if not isinstance(item, dict):
            raise ConfigError(N_("each sms number must be an object"), where=where)
        number = str(item.get("number", "")).replace(" ", "").replace("-", "")
        if not PHONE.match(number):
            raise ConfigError(N_("sms number %(number)r must be digits, like +12035550100"),
                              where=where, number=number)
        gateway = item.get("gateway")
        if gateway not in SMS_GATEWAYS:
            raise ConfigError(N_("sms gateway %(gateway)r is not one of %(choices)s"),
                              where=where, gateway=str(gateway),
                              choices=", ".join(SMS_GATEWAYS))
        entry = {"number": number, "gateway": gateway}
        for name in ("secret_env", "account_env") if gateway == "twilio" else ("secret_env",):
            env_name = str(item.get(name, ""))
            if not ENV_NAME.match(env_name):
                raise ConfigError(N_("%(field)s must name an environment variable, like "
                                     "PORTAL_SMS_SECRET: the secret never goes in a file"),
                                  where=where, field=name)
            entry[name] = env_name
        numbers.append(entry)
    return numbers
