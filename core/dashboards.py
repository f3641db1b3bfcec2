"""Data for the home page of each role. Each app contributes its own widgets in later work."""


def dashboard_for(user):
    return {"role": "staff" if user.is_superuser else user.role}
