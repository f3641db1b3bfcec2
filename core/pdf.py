"""PDF rendering with WeasyPrint; static files are read from disk, never fetched over the network."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string


def _static_url_fetcher(url, *args, **kwargs):
    from weasyprint.urls import default_url_fetcher

    static_prefix = f"file://{settings.STATIC_URL}"
    if url.startswith(settings.STATIC_URL) or url.startswith(static_prefix):
        relative = url.split(settings.STATIC_URL, 1)[1]
        path = finders.find(relative)
        if path:
            return {"file_obj": open(path, "rb"), "filename": Path(path).name}  # noqa: SIM115 - WeasyPrint closes it
    if url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"External resource refused in PDF rendering: {url}")


def html_to_pdf(html):
    from weasyprint import HTML

    return HTML(string=html, base_url="/", url_fetcher=_static_url_fetcher).write_pdf()


def render_pdf(template_name, context):
    return html_to_pdf(render_to_string(template_name, context))
