from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("lead/", views.LeadHomeView.as_view(), name="lead_home"),
    path("district/", views.DistrictHomeView.as_view(), name="district_home"),
]
