"""URL patterns of centres' private pages and the three-year assessment (in the "reports" namespace)."""

from django.urls import path

from reports import centre_views

urlpatterns = [
    path("my-centres/", centre_views.my_centres, name="my_centres"),
    path("centres/", centre_views.centres, name="centres"),
    path("centres/<int:pk>/", centre_views.centre_page, name="centre"),
    path("assessments/", centre_views.assessment_list, name="assessments"),
    path("assessments/<int:pk>/", centre_views.assessment_page, name="assessment"),
]
