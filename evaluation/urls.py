from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("staff/", views.StaffHomeView.as_view(), name="staff_home"),
    path("expert/", views.ExpertHomeView.as_view(), name="expert_home"),
]
