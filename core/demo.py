"""Demo data of the platform: two centres and one account per role (password DEMO_PASSWORD)."""

from .models import CertificationCentre, Role, User

DEMO_PASSWORD = "cqpm-demo"  # noqa: S105 - demo data only, refused in production settings

DEMO_ACCOUNTS = [
    # username, role, centre codes, first name, last name
    ("admin", Role.STAFF, ["A", "B"], "Alice", "Administratrice"),
    ("staff-a", Role.STAFF, ["A"], "Sophie", "Martin"),
    ("staff-b", Role.STAFF, ["B"], "Karim", "Benali"),
    ("evaluator-a", Role.EVALUATOR, ["A"], "Jean", "Dupont"),
    ("evaluator-b", Role.EVALUATOR, ["A"], "Claire", "Lefèvre"),
    ("tutor-a", Role.TUTOR, ["A"], "Marc", "Girard"),
    ("tutor-b", Role.TUTOR, ["A"], "Nadia", "Roux"),
    ("jury-a", Role.JURY, ["A"], "Pierre", "Moreau"),
    # A candidate of centre A whose deliberation is closed (linked by deliberations.demo): issue 23.
    ("candidate-a", Role.CANDIDATE, ["A"], "Julie", "Robert"),
]

CENTRES = [
    {
        "code": "A",
        "name": "UIMM Centre A — Lorraine",
        "legal_name": "UIMM Lorraine",
        "address": "12 rue de la Métallurgie",
        "postcode": "54000",
        "city": "Nancy",
        "certifier_signatory": "Hélène Fabre",
    },
    {
        "code": "B",
        "name": "UIMM Centre B — Rhône-Alpes",
        "legal_name": "UIMM Rhône-Alpes",
        "address": "8 quai des Forges",
        "postcode": "69002",
        "city": "Lyon",
        "certifier_signatory": "Louis Perrin",
    },
]


def seed(ctx):
    centres = {}
    for data in CENTRES:
        centre, _ = CertificationCentre.objects.update_or_create(code=data["code"], defaults=data)
        centres[centre.code] = centre
    users = {}
    for username, role, centre_codes, first, last in DEMO_ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "first_name": first,
                "last_name": last,
                "email": f"{username}@demo.cqpm.local",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        user.role = role
        user.is_superuser = user.is_staff = username == "admin"
        user.save()
        user.centres.set([centres[c] for c in centre_codes])
        users[username] = user
    ctx["centres"] = centres
    ctx["users"] = users
