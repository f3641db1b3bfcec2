app_name = "deliberations"

urlpatterns = []
