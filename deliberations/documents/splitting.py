"""Splitting one laid-out PDF of several candidate documents into one PDF per candidate (pypdf), each
with its own resources and metadata.
"""

from __future__ import annotations

import copy
import io
import re

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from core.pdf import PDFA_VARIANT


def _page_ranges(laid_out, anchors):
    """[(first page, end page)] of each part, found by the anchor that opens it."""
    starts = {}
    for index, page in enumerate(laid_out.pages):
        for anchor in page.anchors:
            starts.setdefault(anchor, index)
    firsts = [starts[anchor] for anchor in anchors]
    return list(zip(firsts, [*firsts[1:], len(laid_out.pages)], strict=True))


_PDF_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")


def _own_resources(page):
    """Give the page a resource dictionary with only what its content uses.

    WeasyPrint shares one resource dictionary between the pages of a file: copied as is, a
    candidate's file would carry the images (QR codes, hence document numbers) of the whole batch.
    """

    resources = page["/Resources"].get_object()
    used = {b"/" + name for name in _PDF_NAME.findall(page.get_contents().get_data())}
    own = DictionaryObject()
    for category, value in resources.items():
        value = value.get_object()
        if isinstance(value, DictionaryObject):
            value = DictionaryObject({k: v for k, v in value.items() if k.encode() in used})
        own[NameObject(category)] = value
    page[NameObject("/Resources")] = own


def _xmp(metadata, title):
    """The XMP packet of a PDF/A part: WeasyPrint's metadata of the batch with the part's own title."""

    own = copy.copy(metadata)
    own.title = title
    version, conformance = PDFA_VARIANT.removeprefix("pdf/a-")[:-1], PDFA_VARIANT[-1].upper()
    header = b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">'
    footer = b'</x:xmpmeta>\n<?xpacket end="r"?>'
    return b"\n".join((header, own.generate_rdf_metadata("a", int(version), conformance), footer))


def _split(content, ranges, titles, metadata=None):
    """One PDF per page range of `content`, each with its own title and only its own resources.

    With `metadata` (a PDF/A batch), each file keeps the output intent and gets its own XMP packet
    (PDF/A identification, title, author, subject), as a file rendered alone would."""

    reader = PdfReader(io.BytesIO(content))
    info = {
        k: v
        for k, v in (reader.metadata or {}).items()
        if k in ("/Producer", "/Creator", "/Author", "/Subject")
    }
    root = reader.trailer["/Root"]
    files = []
    for (start, end), title in zip(ranges, titles, strict=True):
        writer = PdfWriter()
        for index in range(start, end):
            page = reader.pages[index]
            _own_resources(page)
            writer.add_page(page)
        writer.add_metadata({**info, "/Title": title})
        if metadata is not None:
            writer.pdf_header = reader.pdf_header
            writer._root_object[NameObject("/OutputIntents")] = root["/OutputIntents"].clone(writer)
            stream = DecodedStreamObject()
            stream.set_data(_xmp(metadata, title))
            stream[NameObject("/Type")] = NameObject("/Metadata")
            stream[NameObject("/Subtype")] = NameObject("/XML")
            writer._root_object[NameObject("/Metadata")] = writer._add_object(stream)
        buffer = io.BytesIO()
        writer.write(buffer)
        files.append(buffer.getvalue())
    return files
