from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("lead/", views.lead_home, name="lead_home"),
    path("district/", views.district_home, name="district_home"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/<slug:step>/", views.EditStepView.as_view(), name="edit"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/print/", views.print_view, name="print"),
    path("<int:pk>/versions/", views.versions, name="versions"),
    path("<int:pk>/recommend/", views.recommend, name="recommend"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.download_attachment, name="attachment"),
    path(
        "<int:pk>/attachments/<int:attachment_pk>/delete/", views.delete_attachment, name="delete_attachment"
    ),
]
