"""Markdown for announcements: rendered with Python-Markdown, then sanitised with nh3.

Sanitising after rendering is what makes it safe: raw HTML, scripts, event attributes and
`javascript:` links are removed whatever the Markdown produced; links get rel attributes
so they pass no trust on.
"""

from __future__ import annotations

import markdown
import nh3
from markupsafe import Markup

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote",
        "code", "pre", "hr"}


def render_markdown(text: str) -> Markup:
    html = markdown.markdown(text or "", extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(html, tags=TAGS, attributes={"a": {"href", "title"}},
                      url_schemes={"http", "https", "mailto"},
                      link_rel="nofollow ugc noopener")
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above
