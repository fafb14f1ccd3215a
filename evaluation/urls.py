from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("staff/", views.workbench, name="staff_home"),
    path("expert/", views.ExpertHomeView.as_view(), name="expert_home"),
    path("applications/<int:pk>/", views.application_page, name="application"),
    path("applications/<int:pk>/preliminary/", views.preliminary, name="preliminary"),
    path("applications/<int:pk>/move/<slug:name>/", views.move, name="move"),
    path("leadership/", views.leadership, name="leadership"),
]
