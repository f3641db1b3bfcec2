from django.urls import path

from . import statistics_views, views

app_name = "reporting"

# Mounted at the root (cqpm/urls.py): the statistics page keeps its address /statistiques/, the
# CPF holders declaration lives under /declarations/. The home page (`home`, reporting.dashboard_views)
# is named in cqpm/urls.py, outside the namespace.
urlpatterns = [
    path("statistiques/", statistics_views.statistics, name="statistics"),
    path("declarations/accrochage/", views.accrochage, name="accrochage"),
    path("declarations/accrochage/export/", views.accrochage_export, name="accrochage_export"),
    path("declarations/accrochage/fichiers/<int:pk>/", views.batch_download, name="batch_download"),
    path("declarations/accrochage/fichiers/<int:pk>/accuse/", views.report_upload, name="report_upload"),
    path(
        "accrochage/candidats/<int:pk>/evaluation-anterieure/",
        views.legacy_examination,
        name="legacy_examination",
    ),
]
