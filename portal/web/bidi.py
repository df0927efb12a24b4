"""Direction isolation for values put into translated text (issue 13: right-to-left).

An English request-type name, a street name, a date or a negative longitude inside an Arabic
sentence takes the direction of the text around it unless it is isolated: "· 18" jumps to the
wrong end, "-72.9" becomes "72.9-". `bdi` isolates a value of unknown direction (the browser
looks at its first strong letter); `ltr` marks numbers, coordinates and codes as left to right
and isolates them too. Both escape the value, so they are safe for user text.
"""

from __future__ import annotations

from markupsafe import Markup, escape


def bdi(value: object) -> Markup:
    """`<bdi>value</bdi>`: isolated, its direction from its own first strong character."""
    return Markup("<bdi>%s</bdi>") % escape(value)


def ltr(value: object) -> Markup:
    """`<bdi dir="ltr">value</bdi>`: numbers and coordinates read left to right in any page."""
    return Markup('<bdi dir="ltr">%s</bdi>') % escape(value)
