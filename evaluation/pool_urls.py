from django.urls import path

from evaluation import pool_views as views

app_name = "pool"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("", views.pool_home, name="home"),
    path("applications/<int:pk>/", views.application_page, name="application"),
    path("applications/<int:pk>/files/<str:name>/", views.application_file, name="application_file"),
    path("pool/<int:pk>/", views.expert_page, name="expert"),
    path("me/", views.my_profile, name="my_profile"),
]
