from django.urls import path

from . import views

app_name = "deliberations"

urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("nouvelle/", views.session_create, name="session_create"),
    path("jurys/", views.jury_list, name="jury_list"),
    path("jurys/<int:pk>/", views.jury_detail, name="jury_detail"),
    path(
        "jurys/<int:pk>/membres/<int:member_pk>/retirer/", views.jury_member_remove, name="jury_member_remove"
    ),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    # The candidates' appeals (issue 23): staff of the session's centre.
    path("recours/", views.appeal_list, name="appeal_list"),
    path("recours/<int:pk>/", views.appeal_detail, name="appeal_detail"),
    path("sessions/<int:pk>/convocations/", views.session_convocations, name="session_convocations"),
    path("sessions/<int:pk>/presences/", views.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/saisie-a-posteriori/", views.session_late_entry, name="session_late_entry"),
    path("sessions/<int:pk>/candidats/", views.session_add_candidates, name="session_add_candidates"),
    path(
        "sessions/<int:pk>/candidats/<int:candidate_pk>/retirer/",
        views.session_remove_candidate,
        name="session_remove_candidate",
    ),
    path(
        "sessions/<int:pk>/candidats/<int:candidate_pk>/decision/",
        views.candidate_decide,
        name="candidate_decide",
    ),
    path("sessions/<int:pk>/cloture/", views.session_close, name="session_close"),
    path("sessions/<int:pk>/documents/", views.session_documents, name="session_documents"),
    path("sessions/<int:pk>/documents/produire/", views.document_request, name="document_request"),
    path("documents/<uuid:document_pk>/etat/", views.document_status, name="document_status"),
    path("documents/<uuid:document_pk>/relancer/", views.document_retry, name="document_retry"),
    path("documents/<uuid:document_pk>/telecharger/", views.document_download, name="document_download"),
    path(
        "candidats/<int:candidate_pk>/deliberation-anterieure/",
        views.prior_deliberation_create,
        name="prior_deliberation_create",
    ),
    path("parametres-documents/", views.document_settings, name="document_settings"),
    path("verifier/", views.verify, name="verify"),
    path("verifier/<str:number>/", views.verify_number, name="verify_number"),
]
