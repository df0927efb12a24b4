"""`portal operators grant|revoke EMAIL`, `portal operators list`: who runs the platform.

Operators create portals and bodies at `/operator`. The role is given only here, on the
server, never from a page: whoever can run this command already holds the platform.
"""

from __future__ import annotations

import argparse

from portal.core.db import Database
from portal.core.errors import ConfigError, ValidationError
from portal.core.i18n import gettext as _
from portal.core.settings import Settings


def add_parsers(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001 - argparse's own type
    operators = sub.add_parser("operators", help="platform operators: who may use /operator")
    operators.add_argument("action", choices=["grant", "revoke", "list"])
    operators.add_argument("email", nargs="?")
    operators.set_defaults(func=cmd_operators)


def cmd_operators(args: argparse.Namespace, settings: Settings) -> int:
    from portal.staff import accounts

    with Database(settings.database_url).session() as session:
        if args.action == "list":
            for user in accounts.operators(session):
                print(user.email)
            return 0
        if not args.email:
            raise ConfigError(f"operators {args.action} needs EMAIL")
        email = accounts.normalise_email(args.email)
        if args.action == "grant":
            try:
                accounts.grant_operator(session, email)
            except ValidationError as exc:
                raise ConfigError(exc.message.msgid % exc.message.params, where=email) from None
            print(_("%(email)s is now an operator: /operator on any portal's address, "
                    "after signing in there", email=email))
        else:
            removed = accounts.revoke_operator(session, email)
            print(_("removed %(count)s operator role(s) from %(email)s", count=removed,
                    email=email))
    return 0
