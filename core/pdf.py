"""PDF rendering with WeasyPrint; static files are read from disk, never fetched over the network."""

import mimetypes

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .text import strip_bidi


class StaticOnlyURLFetcher(URLFetcher):
    """Resolves `/static/...` (and `data:` URIs) locally; refuses everything else.

    Documents are rendered by workers that must not depend on, or leak requests to, any server.
    """

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols={"file", "data"}, timeout=2, **kwargs)

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        static_prefix = "file://" + settings.STATIC_URL
        if url.startswith(static_prefix):
            relative = url[len(static_prefix) :].split("?")[0].split("#")[0]
            path = finders.find(relative) if ".." not in relative else None
            if path:
                with open(path, "rb") as handle:
                    body = handle.read()
                content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})
        raise ValueError(f"Ressource externe refusée dans le rendu PDF : {url}")


_font_config = None


def font_config():
    """One FontConfiguration per process, reused by every document (our CSS has no @font-face)."""
    global _font_config  # noqa: PLW0603 - a per-process cache
    if _font_config is None:
        _font_config = FontConfiguration()
    return _font_config


def render_html(html):
    """Lay the HTML out without writing the PDF: a WeasyPrint Document (pages, anchors, write_pdf()).

    Bidirectional controls are removed from the whole page: a value stored before they were stripped
    at input could otherwise print the rest of a line reversed on a legal document (our documents are
    French; no template needs them)."""
    html = strip_bidi(html)
    return HTML(string=html, base_url="/", url_fetcher=StaticOnlyURLFetcher()).render(
        font_config=font_config()
    )


# Archival documents: PDF/A-3b (ISO 19005-3, level B: fonts embedded, sRGB output intent, XMP
# metadata with title/author/subject taken from the HTML <title> and <meta name=author/description>).
PDFA_VARIANT = "pdf/a-3b"


def html_to_pdf(html, *, pdf_variant=None):
    return render_html(html).write_pdf(pdf_variant=pdf_variant)


def render_pdf(template_name, context, *, pdf_variant=None):
    return html_to_pdf(render_to_string(template_name, context), pdf_variant=pdf_variant)
