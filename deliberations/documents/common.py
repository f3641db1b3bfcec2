"""What the deliberation documents share: their two failures and the helpers shown in them (QR code,
verification address, masked name).
"""

from __future__ import annotations

import base64
import io

import qrcode
from django.conf import settings
from django.urls import reverse
from django.utils.safestring import mark_safe


class DocumentsNotReady(Exception):
    """A pack needs documents that are still being produced: try again a little later."""


class DocumentError(Exception):
    """The document cannot be produced from the current data (permanent failure)."""


# ---------------------------------------------------------------------------------------------
# Helpers shown in documents
# ---------------------------------------------------------------------------------------------


def verification_url(number):
    return f"{settings.SITE_URL}{reverse('deliberations:verify_number', args=[number])}"


def qr_png(text):
    """A QR code as a PNG `<img>` (data URI): drawn by WeasyPrint in a fraction of the SVG's time.

    The mask pattern is fixed (any of the 8 is valid for every reader) instead of trying all eight.
    """

    code = qrcode.QRCode(border=1, box_size=4, mask_pattern=0)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return mark_safe(f'<img class="qr" alt="QR code" src="data:image/png;base64,{data}">')  # noqa: S308 - base64 of our own PNG


def mask_name(first_names, last_name):
    """« Jean DUPONT » → « J*** D***** »: enough to match a paper document, not to identify a person."""

    def mask(word):
        word = word.strip()
        return word[:1].upper() + "*" * max(len(word) - 1, 2) if word else ""

    first = (first_names or "").split()[:1]
    return " ".join(mask(w) for w in [*first, *(last_name or "").split()[:1]] if w)
