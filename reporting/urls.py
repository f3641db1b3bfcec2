from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("accrochage/", views.accrochage, name="accrochage"),
    path("accrochage/export/", views.accrochage_export, name="accrochage_export"),
    path("accrochage/fichiers/<int:pk>/", views.batch_download, name="batch_download"),
    path("accrochage/fichiers/<int:pk>/accuse/", views.report_upload, name="report_upload"),
    path(
        "accrochage/candidats/<int:pk>/evaluation-anterieure/",
        views.legacy_examination,
        name="legacy_examination",
    ),
]
