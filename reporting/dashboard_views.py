"""The home page (« Tableau de bord »): the widgets of the user's role (reporting.dashboards)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .dashboards import dashboard_for


@login_required
def home(request):
    if request.user.is_candidate:  # the candidate's home is his own space (people, issue 23)
        return redirect("people:candidate_home")
    return render(request, "reporting/home.html", dashboard_for(request.user))
