"""How large a request may be, per route: the one table the body cap and the form reader share.

`BodyLimitMiddleware` refuses a body past `FormLimits.body_limit` (413) before the handler runs
or as soon as the streamed bytes pass it; `forms.read_form` then parses within the same row's
file, field and per-field character limits (400). A route not in `FORMS` gets `SMALL_FORM`.

The character limits sit well above what the domain accepts (twice its longest text, for
paragraphs), so a person who typed too much sees the domain's own message on the form they
filled in; only bodies no form of ours produces meet these limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.open311 import filing
from portal.reports import reporting, status
from portal.staff import announcement_authoring
from portal.tenancy import boundaries

KIB = 1024
MIB = 1024 * KIB
LINE_CHARS = 1_000
"""Any field not named a paragraph: the domain's longest single-line value is 300."""
UTF8_BYTES = 4  # the most one character takes in UTF-8 ...
PERCENT_BYTES = 3 * UTF8_BYTES  # ... and percent-encoded in an urlencoded body


@dataclass(frozen=True)
class FormLimits:
    """What one route's form may hold; `body_bytes` is the room for its fields besides files."""

    files: int = 0
    fields: int = 20
    paragraphs: tuple[str, ...] = ()
    """Fields that may hold `long_chars` (a name, or a prefix ending in `_` like `body_`)."""
    long_chars: int = 2 * status.MAX_COMMENT
    body_bytes: int = 64 * KIB

    def body_limit(self, photo_bytes: int) -> int:
        """The most bytes a request body may have: every allowed photo plus the fields' room."""
        return self.files * photo_bytes + self.body_bytes

    def chars(self, name: str) -> int:
        """The most characters field `name` may hold."""
        long = any(name == p or (p.endswith("_") and name.startswith(p))
                   for p in self.paragraphs)
        return self.long_chars if long else LINE_CHARS

    def part_bytes(self, urlencoded: bool) -> int:
        """Bytes one text part may take while parsing, so that `long_chars` always fit."""
        longest = max(self.long_chars, LINE_CHARS)
        return longest * (PERCENT_BYTES if urlencoded else UTF8_BYTES) + KIB


SMALL_FORM = FormLimits()
REPORT = FormLimits(files=1, fields=64, paragraphs=("description",),
                    long_chars=2 * reporting.MAX_DESCRIPTION, body_bytes=256 * KIB)
"""A dozen named fields and the request type's questions (`q_*`), with room to spare."""
COMMENT = FormLimits(fields=10, paragraphs=("text",))

FORMS: dict[str, FormLimits] = {
    "report_submit": REPORT,
    "report_lite_submit": REPORT,
    "widget_report_submit": REPORT,
    "issue_fixed": FormLimits(files=1, fields=10, paragraphs=("text",)),
    "issue_comment": COMMENT,
    "issue_flag": COMMENT,
    "staff_status": FormLimits(files=1, fields=10, paragraphs=("text",)),
    "staff_note": COMMENT,
    "staff_reassign": COMMENT,  # the comment sent with a reassignment
    "staff_duplicate": COMMENT,  # the comment left on the duplicate
    "staff_bulk": FormLimits(fields=300, paragraphs=("text",)),  # up to 200 ticked issues
    # A portal's admins (`routes.staff_portal`): a logo file, a list of origins, and one
    # box per request type of the bodies covering the portal.
    "staff_portal_logo": FormLimits(files=1, fields=5),
    "staff_portal_origins": FormLimits(fields=5, paragraphs=("origins",)),
    "staff_portal_request_types": FormLimits(fields=500),
    "staff_redact": FormLimits(fields=10, paragraphs=("passage",),
                               long_chars=2 * reporting.MAX_DESCRIPTION),
    # Open311 (`portal.open311.filing`): a dozen fields, attributes, repeated media_url.
    "open311_requests_submit": FormLimits(files=1, fields=100, paragraphs=("description",),
                                          long_chars=2 * filing.MAX_DESCRIPTION,
                                          body_bytes=256 * KIB),
    "open311_updates_submit": FormLimits(fields=20, paragraphs=("description",)),
    # Twilio posts some forty fields (From, Body, ten MediaUrl and MediaContentType, …).
    "sms_webhook": FormLimits(fields=80, paragraphs=("Body", "message")),
    # The operator's forms: a boundary file (and a logo), and the layer or drawing carried
    # between previews as GeoJSON text; the pick list is a checkbox per feature.
    "operator_new_submit": FormLimits(
        files=2, fields=700, paragraphs=("layer_geojson", "swapped_geojson", "drawn_geojson",
                                         "logo_svg"),
        long_chars=2 * boundaries.MAX_FILE_BYTES, body_bytes=3 * boundaries.MAX_FILE_BYTES),
    "operator_bodies_submit": FormLimits(files=1, fields=20, paragraphs=("request_types",),
                                         body_bytes=boundaries.MAX_FILE_BYTES + MIB),
    "staff_announcements_submit": FormLimits(
        fields=40, paragraphs=("body_",), long_chars=2 * announcement_authoring.MAX_TEXT,
        body_bytes=1 * MIB),  # a title and a text in each of the portal's languages
}


def limits_for(route_name: str | None) -> FormLimits:
    return FORMS.get(route_name or "", SMALL_FORM)
