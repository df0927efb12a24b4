"""Reading a posted form within its route's limits: every handler's `await read_form(request)`.

Starlette parses with the route's row in `request_limits.FORMS`: how many files and fields,
how many bytes a text part may take. File parts go to a `SpooledTemporaryFile` (on disk past
1 MB), never whole into memory, and `read_photo` takes at most the photo limit plus one byte
from it, so the photo code can say "too large" without ever holding more. Then each text field
is held to its character limit. A form past any of these is refused with `FormRefused` (400),
which the app shows as an error page in the visitor's language.
"""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from portal.core.errors import N_, Message
from portal.web.request_limits import FormLimits, limits_for


class FormRefused(HTTPException):
    """A form past its route's limits; `message` says which, for the person who sent it."""

    def __init__(self, message: Message) -> None:
        super().__init__(400, message.msgid % message.params)
        self.message = message


def _refusal(detail: str, limits: FormLimits) -> Message:
    # Starlette says which limit its parser met only in its (English) detail.
    if detail.startswith("Too many files"):
        return Message(N_("This form has too many files: at most %(max)s."), {"max": limits.files})
    if detail.startswith("Too many fields"):
        return Message(N_("This form has too many fields: at most %(max)s."),
                       {"max": limits.fields})
    if "exceeded maximum size" in detail:
        return Message(N_("A field of this form is too long: at most %(max)s characters."),
                       {"max": limits.long_chars})
    return Message(N_("This form could not be read. Please go back and send it again."))


def _route_name(request: Request) -> str | None:
    route = request.scope.get("route")
    return getattr(route, "name", None)


async def read_form(request: Request) -> FormData:
    """The posted form, within the limits of the route handling it; else `FormRefused`."""
    limits = limits_for(_route_name(request))
    urlencoded = request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded")
    try:
        form = await request.form(max_files=limits.files, max_fields=limits.fields,
                                  max_part_size=limits.part_bytes(urlencoded))
    except HTTPException as exc:  # how Starlette reports a parser limit inside an app
        raise FormRefused(_refusal(str(exc.detail), limits)) from None
    except MultiPartException as exc:
        raise FormRefused(_refusal(exc.message, limits)) from None
    for name, value in form.multi_items():
        if isinstance(value, str) and len(value) > limits.chars(name):
            await form.close()
            raise FormRefused(Message(
                N_("A field of this form is too long: at most %(max)s characters."),
                {"max": limits.chars(name)}))
    return form


async def read_photo(request: Request, form: FormData, name: str = "photo") -> bytes | None:
    """The uploaded photo's bytes, at most the photo limit plus one; None if none was chosen."""
    upload = form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await upload.read(request.app.state.settings.max_photo_bytes + 1)
