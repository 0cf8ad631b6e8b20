"""Knowledge articles and runbooks are written in Markdown by agents and read by everyone.

Markdown passes raw HTML straight through, so what it renders is sanitised with nh3 (the
Rust `ammonia` sanitiser) against an allow-list: formatting, lists, tables, code, headings,
links and http(s) images survive; scripts, iframes, forms, `style` and event-handler
attributes, and `javascript:`/`data:` URLs never do. Links get `rel="noopener noreferrer
nofollow"` so a linked page can't reach back into the desk or borrow its ranking.
"""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

EXTENSIONS = ["extra", "sane_lists"]
# Table alignment as `align=` rather than `style=`: style attributes are never kept.
EXTENSION_CONFIGS = {"extra": {"tables": {"use_align_attribute": True}}}

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol",
    "p", "pre", "s", "samp", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "ul",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},  # language-xyz from fenced code blocks, for a highlighter
    "ol": {"start"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
}
# Their content is dropped too, not just the tags (the text of a script is not prose).
CLEAN_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "form", "textarea",
                      "select", "noscript", "template", "svg", "math"}


def _attribute(tag: str, name: str, value: str) -> str | None:
    """Images load only from http(s) URLs; code classes are only `language-…`."""
    if tag == "img" and name == "src" and not value.lower().startswith(("http://", "https://")):
        return None
    if tag == "code" and name == "class":
        kept = [c for c in value.split() if c.startswith("language-")]
        return " ".join(kept) or None
    return value


_cleaner = nh3.Cleaner(
    tags=TAGS, clean_content_tags=CLEAN_CONTENT_TAGS, attributes=ATTRIBUTES,
    attribute_filter=_attribute, url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow", strip_comments=True,
)


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML that is safe to show to anyone, whatever the author typed."""
    if not text:
        return mark_safe("")
    html = markdown.markdown(text, extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS,
                             output_format="html")
    return mark_safe(_cleaner.clean(html))  # safe: sanitised by nh3 on this line
