from django.urls import path

from centres import views

app_name = "centres"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("<int:pk>/", views.centre_page, name="detail"),
    path("district/", views.district_register, name="district_register"),
    path("district/<int:pk>/", views.district_centre, name="district_centre"),
]
