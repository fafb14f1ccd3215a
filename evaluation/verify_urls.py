from django.urls import path

from evaluation import public_views

app_name = "verify"

urlpatterns = [
    path("<str:token>/", public_views.verify_document, name="document"),
]
