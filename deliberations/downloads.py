"""How a produced document (PV, certificate, letter…) leaves the server: one response, one journal
entry, whoever asks. The staff's document list and the candidate's own space (people app) both send
it from here, so neither app's views import the other's (docs/design.md, « Views »)."""

from core.views_kit import file_download


def download_generated_document(request, document):
    """A produced document as an attachment, journaled as `document.downloaded` with its kind. The
    caller has already checked that the user may read this very document."""
    return file_download(
        request,
        document.session,
        document.file,
        document="deliberation_document",
        filename=document.filename,
        content_type=document.content_type,
        document_id=str(document.pk),
        kind=document.kind,
    )
