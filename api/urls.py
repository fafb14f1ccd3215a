from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from api import opendata, views

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("v1/announcements/", views.public(views.AnnouncementList), name="announcements"),
    path("v1/announcements/<int:pk>/", views.public(views.AnnouncementDetail), name="announcement"),
    path("v1/centres/", views.public(views.CentreList), name="centres"),
    path("v1/centres/<int:pk>/", views.public(views.CentreDetail), name="centre"),
    path("v1/applications/", views.ApplicationList.as_view(), name="applications"),
    path("v1/summaries/", views.SummaryList.as_view(), name="summaries"),
    path("v1/assessments/", views.AssessmentList.as_view(), name="assessments"),
    # a JSON 404 for any other address under /api/, never an HTML page
    re_path(r"^.*$", views.not_found, name="not_found"),
]

open_data_patterns = (
    [
        path("", opendata.index, name="index"),
        path("centres.<str:fmt>", opendata.centres, name="centres"),
        path("announcements.<str:fmt>", opendata.announcements, name="announcements"),
    ],
    "open_data",
)
