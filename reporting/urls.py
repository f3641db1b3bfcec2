from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("accrochage/", views.accrochage, name="accrochage"),
    path("accrochage/export/", views.accrochage_export, name="accrochage_export"),
    path("accrochage/fichiers/<int:pk>/", views.batch_download, name="batch_download"),
]
