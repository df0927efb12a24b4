"""SMS gateways behind one interface: how a gateway's webhook is read and checked, and how a
text is handed to it. One class per gateway; `GATEWAYS` names them as `portal.json` does.

- **Twilio** posts a form (`From`, `To`, `Body`, `NumMedia`, `MediaUrl0…`, `MessageSid`)
  signed in `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed with the account's auth token,
  over the URL Twilio called followed by every posted parameter, sorted by name, as name and
  value with no separators. We send through its REST API (`Messages.json`).
- **SMSSync** (an Android phone acting as the gateway) posts `from`, `message`,
  `message_id`, `sent_to` and the shared `secret`. It cannot be pushed to: the phone asks
  for what to send (`task=send`) and confirms what it sent (`task=sent`); see `outbound`.

A request that is unsigned, wrongly signed or has the wrong secret raises `Refused`; so does
a message id already taken (a replay), which `intake` checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from portal.sms.phones import normalise

TWILIO_API = "https://api.twilio.com"
SEND_TIMEOUT = 10.0


class Refused(Exception):
    """The webhook request is not the gateway's; the reason goes to the log, not the sender."""


class SendFailed(Exception):
    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


@dataclass(frozen=True)
class Inbound:
    """One text as a gateway delivered it."""

    sender: str
    to: str
    text: str
    message_id: str
    media_urls: tuple[str, ...] = field(default_factory=tuple)


def _first(form: Sequence[tuple[str, str]], name: str) -> str:
    return next((v for k, v in form if k == name), "")


def twilio_signature(token: str, url: str, form: Sequence[tuple[str, str]]) -> str:
    """Twilio's signature of a form post to `url` (see the module docstring)."""
    data = url + "".join(k + v for k, v in sorted(form, key=lambda kv: kv[0]))
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class TwilioGateway:
    name = "twilio"
    pushes = True

    def __init__(self, api_base: str = TWILIO_API) -> None:
        self.api_base = api_base.rstrip("/")

    def inbound(self, url: str, form: Sequence[tuple[str, str]], headers: Mapping[str, str],
                secret: str) -> Inbound:
        signature = headers.get("x-twilio-signature", "")
        if not secret:
            raise Refused("the gateway's secret is not set in the environment")
        if not signature:
            raise Refused("unsigned request")
        if not hmac.compare_digest(signature, twilio_signature(secret, url, form)):
            raise Refused("wrong signature")
        count = _first(form, "NumMedia")
        media = []
        for index in range(min(int(count) if count.isdigit() else 0, 10)):
            kind = _first(form, f"MediaContentType{index}")
            link = _first(form, f"MediaUrl{index}")
            if link and (not kind or kind.startswith("image/")):
                media.append(link)
        return Inbound(sender=normalise(_first(form, "From")), to=normalise(_first(form, "To")),
                       text=_first(form, "Body"), message_id=_first(form, "MessageSid"),
                       media_urls=tuple(media))

    def answer(self) -> tuple[str, str]:
        """An empty TwiML answer: the replies go out from the outbox, not in this answer."""
        return '<?xml version="1.0" encoding="UTF-8"?><Response></Response>', "text/xml"

    def send(self, config: Mapping[str, str], environ: Mapping[str, str], to: str,
             text: str) -> str:
        """Hand one text to Twilio; returns its message SID."""
        sid, token = environ.get(config["account_env"], ""), environ.get(config["secret_env"], "")
        if not sid or not token:
            raise SendFailed(f"{config['account_env']} or {config['secret_env']} is not set",
                             permanent=False)
        url = f"{self.api_base}/2010-04-01/Accounts/{urllib.parse.quote(sid)}/Messages.json"
        data = urllib.parse.urlencode({"To": to, "From": config["number"], "Body": text})
        request = urllib.request.Request(url, data=data.encode(), method="POST", headers={
            "Authorization": "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:  # noqa: S310
                answer = json.loads(response.read(64 * 1024) or b"{}")
        except urllib.error.HTTPError as exc:
            permanent = 400 <= exc.code < 500 and exc.code not in (408, 429)
            raise SendFailed(f"Twilio answered {exc.code}", permanent) from None
        except (OSError, ValueError) as exc:
            raise SendFailed(f"Twilio could not be reached: {exc}", permanent=False) from None
        return str(answer.get("sid", ""))


class SmsSyncGateway:
    name = "smssync"
    pushes = False  # the phone fetches what to send (`outbound.smssync_tasks`)

    def inbound(self, url: str, form: Sequence[tuple[str, str]], headers: Mapping[str, str],
                secret: str) -> Inbound:
        if not secret:
            raise Refused("the gateway's secret is not set in the environment")
        if not hmac.compare_digest(_first(form, "secret").encode(), secret.encode()):
            raise Refused("wrong secret")
        return Inbound(sender=normalise(_first(form, "from")),
                       to=normalise(_first(form, "sent_to")), text=_first(form, "message"),
                       message_id=_first(form, "message_id"))

    def answer(self) -> tuple[str, str]:
        return json.dumps({"payload": {"success": True, "error": None}}), "application/json"


GATEWAYS: dict[str, TwilioGateway | SmsSyncGateway] = {
    "twilio": TwilioGateway(), "smssync": SmsSyncGateway()}
