from django.urls import path

from . import audit_views, auth_views, views

app_name = "core"

urlpatterns = [
    path("messages/", views.my_notifications, name="notifications"),
    path("compte/double-authentification/", auth_views.otp_setup, name="otp_setup"),
    path("compte/double-authentification/desactiver/", auth_views.otp_disable, name="otp_disable"),
    path("compte/verification/", auth_views.otp_verify, name="otp_verify"),
    path("journal/", audit_views.audit_log, name="audit_log"),
]
