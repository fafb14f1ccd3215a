"""URL patterns of special support and the long-overdue summaries (in the "reports" namespace)."""

from django.urls import path

from reports import overdue_views, support_views

urlpatterns = [
    path("support/", support_views.ledger, name="support_ledger"),
    path("centres/<int:pk>/support/", support_views.centre_support, name="centre_support"),
    path("centres/<int:pk>/support/request/", support_views.request_new, name="support_request_new"),
    path("support/requests/<int:pk>/", support_views.request_page, name="support_request"),
    path("support/attachments/<int:pk>/", support_views.download_attachment, name="support_attachment"),
    path("overdue/", overdue_views.overdue, name="overdue"),
]
