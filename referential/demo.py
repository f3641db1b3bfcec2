"""Demo data: the seed referential « Chargé de Ressources Humaines », imported and published.

Idempotent: the version is imported only when absent and published only while it is a draft.
Later apps find it in ctx["certification"].
"""

import json

from django.conf import settings

from . import services
from .models import Certification, CertificationStatus

SEED_FILE = settings.BASE_DIR / "fixtures" / "referential" / "cqpm-charge-ressources-humaines.json"


def seed(ctx):
    data = json.loads(SEED_FILE.read_text(encoding="utf-8"))
    certification = Certification.objects.filter(code=data["code"], version=data["version"]).first()
    if certification is None:
        certification = services.import_certification(data=data)
    if certification.status == CertificationStatus.DRAFT:
        certification = services.publish(certification=certification)
    # the version in force (a newer version published by the centre replaces the seed one)
    certification = Certification.objects.in_force(certification.code) or certification
    ctx["certification"] = certification
    if "stdout" in ctx:
        ctx["stdout"].write(
            f"Référentiel {certification.code} v{certification.version} ({certification.get_status_display()})."
        )
