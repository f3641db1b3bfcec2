"""The « lettre de résultat disponible » e-mail: sent by the document production
(`deliberations.documents.production._publish`) when a result letter becomes the current, finished file.

Written in the same transaction as the fact (outbox); the dedup key (the document's id) means a
retried task never sends it twice. The kind and key keep their historical `core.` names.
"""

from django.utils.translation import gettext as _

from core.services import queue_email

from .models import DocumentKind, DocumentStatus, GeneratedDocument


def notify_result_letter_available(document):
    """Tell the candidate the jury's result letter has been issued (the result itself is not in the
    email: the letter, sent by the centre, is the official notice). Does nothing for another kind of
    document, or a letter not (yet) finished and current."""
    if document.kind != DocumentKind.LETTER or document.candidate_id is None:
        return None
    document = (
        GeneratedDocument.objects.select_related(
            "candidate__certification", "session__centre", "session__certification"
        )
        .filter(pk=document.pk, status=DocumentStatus.DONE, is_current=True)
        .first()
    )
    if document is None:
        return None
    candidate = document.candidate
    if not candidate.email or candidate.anonymised_at is not None:
        return None
    session = document.session
    centre = session.centre
    return queue_email(
        to_email=candidate.email,
        subject=_("Votre lettre de résultat CQPM est disponible"),
        template="core_result_letter_available",
        context={
            "recipient_name": candidate.full_name,
            "centre_name": centre.name,
            "centre": centre,
            "certification": candidate.certification,
            "session": session,
            "number": document.number,
            "reference": candidate.reference,
            "is_amended": document.version > 1,
        },
        recipient=None,
        kind="core.result_letter",
        dedup_key=f"core:result-letter:{document.pk}",
    )
