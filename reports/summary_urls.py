"""URL patterns of the annual summaries (included into the "reports" namespace by reports/urls.py)."""

from django.urls import path

from reports import summary_views as views

urlpatterns = [
    path("summaries/", views.my_summaries, name="my_summaries"),
    path("summaries/<int:pk>/", views.summary_detail, name="summary"),
    path("summaries/<int:pk>/edit/", views.summary_edit, name="summary_edit"),
    path("summaries/<int:pk>/review/", views.summary_review, name="summary_review"),
    path(
        "summaries/<int:pk>/attachments/<int:attachment_pk>/",
        views.download_attachment,
        name="summary_attachment",
    ),
    path(
        "summaries/<int:pk>/attachments/<int:attachment_pk>/delete/",
        views.delete_attachment,
        name="summary_attachment_delete",
    ),
    path("years/", views.years, name="years"),
    path("years/<int:year>/", views.year, name="year"),
]
