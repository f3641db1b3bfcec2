from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("personnes/", views.person_list, name="list"),
    path("personnes/nouvelle/", views.person_create, name="create"),
    path("personnes/<int:pk>/", views.person_detail, name="detail"),
    path("personnes/<int:pk>/modifier/", views.person_update, name="update"),
    path("personnes/<int:pk>/desactiver/", views.person_deactivate, name="deactivate"),
    path("personnes/<int:pk>/reactiver/", views.person_reactivate, name="reactivate"),
    path("personnes/<int:pk>/inviter/", views.person_invite, name="invite"),
    path("personnes/<int:pk>/commissions/", views.commission_add, name="commission_add"),
    path(
        "personnes/<int:pk>/commissions/<int:member_pk>/presidence/",
        views.commission_president,
        name="commission_president",
    ),
    path(
        "personnes/<int:pk>/commissions/<int:member_pk>/retirer/",
        views.commission_remove,
        name="commission_remove",
    ),
    path("personnes/<int:pk>/jurys/", views.jury_add, name="jury_add"),
    path("personnes/<int:pk>/jurys/<int:seat_pk>/retirer/", views.jury_remove, name="jury_remove"),
    # The candidate's own space (issue 23): his own rows only.
    path("mon-espace/", views.candidate_home, name="candidate_home"),
    path("mon-espace/documents/<uuid:document_pk>/", views.candidate_document, name="candidate_document"),
    path("mon-espace/deposer/", views.candidate_upload, name="candidate_upload"),
    path("mon-espace/depots/<int:document_pk>/", views.candidate_receipt, name="candidate_receipt"),
    path("mon-espace/recours/<int:session_pk>/", views.candidate_appeal, name="candidate_appeal"),
    path("mon-espace/mes-donnees/", views.candidate_data, name="candidate_data"),
    path("mon-espace/mes-donnees/export/", views.candidate_data_export, name="candidate_data_export"),
    path(
        "mon-espace/mes-donnees/rectification/", views.candidate_rectification, name="candidate_rectification"
    ),
    # The set-password link of the invitation e-mail (anonymous; the token is the credential).
    path("compte/invitation/<uidb64>/<token>/", views.invitation, name="invitation"),
]
