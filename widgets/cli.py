"""`portal widgets snippet TENANT --kind map --lang es …`: print what a host site pastes.

Prints the one-line snippet, the pinned (SRI) loader, the plain iframe for CMSes that strip
scripts, the plain link, the CSP lines the host page needs, and which origins may embed.
"""

from __future__ import annotations

import argparse

from sqlalchemy import select

from portal.core.db import Database
from portal.core.errors import N_, ConfigError
from portal.core.i18n import gettext as _
from portal.core.i18n import translate, use_locale
from portal.core.localized import localized
from portal.core.settings import Settings
from portal.models import Tenant

from . import loader
from .snippets import KINDS, build_snippet, parse_options


def add_parser(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    widgets = sub.add_parser("widgets", help="embeddable widgets: print a snippet")
    widgets.add_argument("action", choices=["snippet"])
    widgets.add_argument("tenant", help="portal slug")
    widgets.add_argument("--kind", choices=KINDS, default="map")
    widgets.add_argument("--lang", default="", help="one of the portal's languages")
    widgets.add_argument("--height", default="", help="reserved height in pixels")
    widgets.add_argument("--center", default="", help="map centre as latitude,longitude")
    widgets.add_argument("--zoom", default="", help="map zoom, 1 to 19")
    widgets.add_argument("--status", action="append", default=[],
                         help="map status filter (repeat, or comma-separated)")
    widgets.add_argument("--type", action="append", default=[],
                         help="request type codes (map filter; report preselects)")
    widgets.add_argument("--area", default="", help="stats card: a named area's key")
    widgets.add_argument("--period", default="",
                         help="stats card: 30d, 90d, 365d, a year, or FROM..TO dates")
    widgets.add_argument("--issue", default="", help="issue card: the issue's number")
    widgets.add_argument("--origin", default="",
                         help="where the portal serves /embed.js (default: PUBLIC_URL)")
    widgets.set_defaults(func=cmd_widgets)


def cmd_widgets(args: argparse.Namespace, settings: Settings) -> int:
    with Database(settings.database_url).session() as session:
        portal = session.scalars(select(Tenant).where(Tenant.slug == args.tenant)).first()
        if portal is None:
            raise ConfigError(N_("no portal called %(slug)r"), slug=args.tenant)
        session.expunge(portal)
    values = {"kind": args.kind, "lang": args.lang, "height": args.height,
              "center": args.center, "zoom": args.zoom, "status": args.status,
              "type": args.type, "area": args.area, "period": args.period,
              "issue": args.issue}
    options, errors = parse_options(portal.slug, values, list(portal.languages))
    if errors:
        name, message = next(iter(errors.items()))
        raise ConfigError(N_("--%(option)s: %(problem)s (this portal's languages: %(languages)s)"),
                          option=name, problem=translate(message),
                          languages=", ".join(portal.languages))
    origin = (args.origin or settings.public_url).rstrip("/")
    lang = options.lang or portal.default_language
    with use_locale(lang):  # the snippet speaks the widget's language, the labels the operator's
        snippet = build_snippet(options, origin, f"{origin}/t/{portal.slug}",
                                localized(portal.name, lang, portal.default_language),
                                loader.current())
    sections = [
        (_("Snippet (paste it where the widget should appear):"), snippet.full),
        (_("Pinned to this loader version, with Subresource Integrity:"), snippet.pinned),
        (_("Plain iframe, for sites that strip scripts:"), snippet.iframe),
        (_("Plain link (works with JavaScript off):"), snippet.link),
        (_("The host page's Content-Security-Policy needs:"), "\n".join(snippet.csp)),
        (_("Sites allowed to embed this portal:"),
         " ".join(portal.embed_origins) or _("none yet (add embed_origins to portal.json)")),
    ]
    print("\n\n".join(f"{label}\n{text}" for label, text in sections))
    return 0
