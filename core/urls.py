from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("messages/", views.my_notifications, name="notifications"),
]
