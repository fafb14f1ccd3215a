from django.urls import path

from centres import views

app_name = "centres"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("<int:pk>/", views.centre_page, name="detail"),
]
