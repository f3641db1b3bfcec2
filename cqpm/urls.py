from django.apps import apps
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core import auth_views as core_auth_views
from core import views as core_views
from reporting import dashboard_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("", dashboard_views.home, name="home"),
    path("compte/connexion/", auth_views.LoginView.as_view(), name="login"),
    path("compte/deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("compte/mot-de-passe/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "compte/mot-de-passe/modifie/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "compte/reinitialisation/",
        core_auth_views.ThrottledPasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "compte/reinitialisation/envoyee/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "compte/reinitialisation/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "compte/reinitialisation/terminee/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", include("core.urls")),
    path("referentiels/", include("referential.urls")),
    path("candidats/", include("candidates.urls")),
    path("evaluations/", include("evaluations.urls")),
    path("deliberations/", include("deliberations.urls")),
    path("", include("reporting.urls")),  # /statistiques/ and /declarations/…
    path("", include("people.urls")),  # /personnes/… and the invitation link /compte/invitation/…
    path("admin/", admin.site.urls),
]

if apps.is_installed("bench"):  # development only (cqpm/settings.py, CQPM_BENCH)
    urlpatterns.insert(1, path("", include("bench.urls")))
