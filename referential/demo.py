"""Demo data: the seed referential « Chargé de Ressources Humaines », imported and published.

Idempotent: the version is imported only when absent and published only while it is a draft.
Later apps find it in ctx["certification"].

The seed gives no RNCP registration; the demo sets an obviously fictitious one (DEMO_RNCP_NUMBER,
shown on the pages as demo data) through the staff service, so that the CPF holders declaration can
be tried. Outside demo mode that number is refused by the declaration.
"""

import json

from django.conf import settings

from . import services
from .models import DEMO_RNCP_NUMBER, Certification, CertificationStatus

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
    if not certification.rncp_number:
        certification = services.set_rncp_registration(
            certification=certification, rncp_number=DEMO_RNCP_NUMBER, rncp_level="5"
        )
    ctx["certification"] = certification
    if "stdout" in ctx:
        ctx["stdout"].write(
            f"Référentiel {certification.code} v{certification.version} ({certification.get_status_display()})."
        )
