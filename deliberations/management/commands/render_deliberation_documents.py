"""Produce again every document of a deliberation session (PV, attendance sheet, letters, parchemins,
attestations): queued to the workers, or rendered in this process with --sync."""

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import BusinessRuleError
from deliberations import documents, services
from deliberations.models import DeliberationSession, DocumentStatus


class Command(BaseCommand):
    help = "Produit de nouveau les documents d'une session de délibération (file Celery, ou --sync)."

    def add_arguments(self, parser):
        parser.add_argument("session_id", type=int)
        parser.add_argument("--sync", action="store_true", help="Produire ici, sans passer par les workers.")

    def handle(self, *args, session_id, sync, **options):
        session = DeliberationSession.objects.filter(pk=session_id).first()
        if session is None:
            raise CommandError(f"Session de délibération {session_id} introuvable.")
        try:
            if sync:
                produced = documents.produce_session_documents_inline(session)
            else:
                produced = services.request_session_documents(actor=None, session=session)
        except BusinessRuleError as exc:
            raise CommandError(exc.message) from exc
        done = sum(1 for d in produced if d.status == DocumentStatus.DONE)
        for document in produced:
            self.stdout.write(
                f"{document.number}  {document.get_kind_display()}  {document.get_status_display()}"
            )
        if sync:
            self.stdout.write(self.style.SUCCESS(f"{done} document(s) produit(s)."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{len(produced)} document(s) en file d'attente."))
