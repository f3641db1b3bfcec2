from django.urls import path

from . import views

app_name = "referential"

urlpatterns = [
    path("", views.CertificationListView.as_view(), name="list"),
    path("importer/", views.CertificationUploadView.as_view(), name="upload"),
    path("<int:pk>/", views.CertificationDetailView.as_view(), name="detail"),
    path("<int:pk>/export/", views.CertificationExportView.as_view(), name="export"),
    path("<int:pk>/publier/", views.PublishView.as_view(), name="publish"),
    path("<int:pk>/nouvelle-version/", views.NewDraftView.as_view(), name="new_draft"),
    path("<int:pk>/rncp/", views.RncpRegistrationView.as_view(), name="rncp"),
    path("<int:pk>/supprimer/", views.DeleteDraftView.as_view(), name="delete_draft"),
    path(
        "<int:pk>/competences/<int:number>/modifier/",
        views.CompetencyEditView.as_view(),
        name="edit_competency",
    ),
]
