"""URL patterns of centres' private pages and the three-year assessment (in the "reports" namespace)."""

from django.urls import path

from reports import centre_views, dashboard_views, export_views

urlpatterns = [
    path("my-centres/", centre_views.my_centres, name="my_centres"),
    path("centres/", centre_views.centres, name="centres"),
    path("centres/<int:pk>/", centre_views.centre_page, name="centre"),
    path("assessments/", centre_views.assessment_list, name="assessments"),
    path("assessments/<int:pk>/", centre_views.assessment_page, name="assessment"),
    path("dashboard/", dashboard_views.dashboard, name="dashboard"),
    path("exports/new/<slug:kind>/", export_views.export_new, name="export_new"),
    path("exports/<int:pk>/", export_views.export_job, name="export_job"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
]
