"""The Django admin site: superusers only.

Centre staff work in the application's own pages (« Personnes » for accounts, with their centres'
scope and the rules on rights); the admin sees every centre and every table, so it is reserved to the
platform's superusers whatever `is_staff` says.
"""

from django.contrib import admin


class CQPMAdminSite(admin.AdminSite):
    site_header = "Administration de la certification CQPM"
    site_title = "Administration CQPM"
    index_title = "Administration de la plateforme (superutilisateurs)"

    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_superuser)
