"""A portal's phone numbers for the SMS tests, a phone that texts the real webhook over HTTP
(signed as Twilio signs), and a test gateway adapter that records what would be sent."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.core.settings import Settings
from portal.models import Tenant
from portal.places import gazetteer
from portal.sms import outbound
from portal.sms.gateways import TwilioGateway, twilio_signature
from portal.tenancy import tenant_settings

TOKEN, SID, SYNC_SECRET = "test-twilio-auth-token", "ACtest", "test-smssync-secret"
ENVIRON = {"T_TWILIO_TOKEN": TOKEN, "T_TWILIO_SID": SID, "T_SMSSYNC_SECRET": SYNC_SECRET}
NORTH, RIVER, NORTH_SYNC = "+15550001111", "+15550002222", "+15550003333"
_ids = itertools.count(1)


class RecordingGateway(TwilioGateway):
    """Twilio's webhook as it is, and a `send` that keeps the text instead of calling Twilio."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, str]] = []  # (portal number, to, text)

    def send(self, config, environ, to, text):  # noqa: ANN001, ANN201
        self.sent.append((config["number"], to, text))
        return f"SM{len(self.sent)}"


def set_up_numbers(session, monkeypatch) -> None:  # noqa: ANN001
    """Numbers on `northside` (Twilio and SMSSync) and `riverside` (Twilio), as portal.json
    would give them, and a few places in northside's gazetteer."""
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    twilio = {"gateway": "twilio", "secret_env": "T_TWILIO_TOKEN", "account_env": "T_TWILIO_SID"}
    portals = {t.slug: t for t in session.scalars(select(Tenant))}
    portals["northside"].sms_numbers = tenant_settings.sms_numbers(
        [{"number": NORTH, **twilio},
         {"number": NORTH_SYNC, "gateway": "smssync", "secret_env": "T_SMSSYNC_SECRET"}], "test")
    portals["riverside"].sms_numbers = tenant_settings.sms_numbers(
        [{"number": RIVER, **twilio}], "test")
    gazetteer.add_places(session, portals["northside"].id, [
        gazetteer.NewPlace("landmark", {"en": "Elm Park", "es": "Parque Elm"}, 2.0, 1.0),
        gazetteer.NewPlace("landmark", {"en": "Elm Market"}, 2.2, 1.1),
        gazetteer.NewPlace("landmark", {"en": "Oak Square"}, 2.5, 0.5),
    ], "test")


@dataclass
class Phone:
    """A resident's phone texting a portal number through Twilio's webhook."""

    client: object
    number: str
    to: str = NORTH
    token: str = TOKEN
    gateway: RecordingGateway = field(default_factory=RecordingGateway)

    @property
    def url(self) -> str:
        return f"{self.client.base_url}/sms/twilio/{self.to.lstrip('+')}"

    def form(self, body: str, media: tuple[str, ...] = (), sid: str | None = None) -> dict:
        form = {"MessageSid": sid or f"SM{next(_ids):032d}", "AccountSid": SID,
                "From": self.number, "To": self.to, "Body": body, "NumMedia": str(len(media))}
        for index, link in enumerate(media):
            form[f"MediaUrl{index}"] = link
            form[f"MediaContentType{index}"] = "image/jpeg"
        return form

    def post(self, form: dict, signature: str | None = None):  # noqa: ANN201
        if signature is None:
            signature = twilio_signature(self.token, self.url, list(form.items()))
        headers = {"X-Twilio-Signature": signature} if signature else {}
        return self.client.post(self.url, data=form, headers=headers)

    def text(self, body: str, media: tuple[str, ...] = ()) -> None:
        response = self.post(self.form(body, media))
        assert response.status_code == 200, response.text


def delivered(db, settings: Settings, gateway: RecordingGateway, phone: str) -> list[str]:  # noqa: ANN001
    """Run the outbox's SMS sender once; the texts `phone` got, in order."""
    outbound.drain(db, settings, gateways={"twilio": gateway}, environ=ENVIRON)
    return [text for _number, to, text in gateway.sent if to == phone]
