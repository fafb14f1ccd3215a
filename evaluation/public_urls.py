from django.urls import path

from evaluation import public_views

app_name = "announcements"

urlpatterns = [
    path("", public_views.announcement_list, name="list"),
    path("<int:pk>/", public_views.announcement_detail, name="detail"),
]
