"""Mounted by cqpm/urls.py only when the `bench` app is installed (never in production settings)."""

from django.urls import path

from . import views

urlpatterns = [
    path("bench/bare", views.bare, name="bench_bare"),
]
