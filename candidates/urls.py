from django.urls import path

from . import views

app_name = "candidates"

urlpatterns = [
    path("", views.CandidateListView.as_view(), name="list"),
    path("export/", views.CandidateExportView.as_view(), name="export"),
    path("nouveau/", views.CandidateCreateView.as_view(), name="create"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("import/<int:pk>/", views.ImportJobView.as_view(), name="import_job"),
    path("import/<int:pk>/etat/", views.ImportJobStatusView.as_view(), name="import_job_status"),
    path("import/<int:pk>/confirmer/", views.ImportJobConfirmView.as_view(), name="import_job_confirm"),
    path("<int:pk>/", views.CandidateDetailView.as_view(), name="detail"),
    path("<int:pk>/modifier/", views.CandidateUpdateView.as_view(), name="update"),
    path("<int:pk>/statut/", views.CandidateTransitionView.as_view(), name="transition"),
    path("<int:pk>/dossier/", views.DossierEditView.as_view(), name="dossier_edit"),
    path("<int:pk>/dossier/valider/", views.DossierValidateView.as_view(), name="dossier_validate"),
    path("<int:pk>/dossier/rouvrir/", views.DossierReopenView.as_view(), name="dossier_reopen"),
    path("<int:pk>/documents/ajouter/", views.DocumentUploadView.as_view(), name="document_upload"),
    path(
        "<int:pk>/documents/<int:document_pk>/",
        views.DocumentDownloadView.as_view(),
        name="document_download",
    ),
    path(
        "<int:pk>/donnees-personnelles/",
        views.PersonalDataExportView.as_view(),
        name="personal_data_export",
    ),
    path("demandes-acces/", views.AccessRequestListView.as_view(), name="access_request_list"),
    path("demandes-acces/<int:pk>/", views.AccessRequestDetailView.as_view(), name="access_request_detail"),
    path(
        "demandes-acces/<int:pk>/reponse/",
        views.AccessRequestAnswerView.as_view(),
        name="access_request_answer",
    ),
    path("demandes-acces/<int:pk>/envoi/", views.AccessRequestSentView.as_view(), name="access_request_sent"),
    path(
        "<int:pk>/demandes-acces/nouvelle/",
        views.AccessRequestCreateView.as_view(),
        name="access_request_create",
    ),
    path("entreprises/", views.CompanyListView.as_view(), name="company_list"),
    path("entreprises/recherche/", views.CompanySearchView.as_view(), name="company_search"),
    path("entreprises/nouvelle/", views.CompanyCreateView.as_view(), name="company_create"),
    path("entreprises/<int:pk>/", views.CompanyDetailView.as_view(), name="company_detail"),
    path("entreprises/<int:pk>/modifier/", views.CompanyUpdateView.as_view(), name="company_update"),
    path("entreprises/<int:pk>/tuteurs/ajouter/", views.TutorCreateView.as_view(), name="tutor_create"),
    path("tuteurs/<int:pk>/modifier/", views.TutorUpdateView.as_view(), name="tutor_update"),
]
