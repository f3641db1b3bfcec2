app_name = "referential"

urlpatterns = []
