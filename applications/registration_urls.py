from django.urls import path

from applications import registration_views as views

app_name = "registration"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/confirm/<str:token>/", views.confirm, name="confirm"),
    path("organisations/pending/", views.queue, name="queue"),
    path("organisations/<int:pk>/verify/", views.verify, name="verify"),
    path("organisations/<int:pk>/licence/", views.licence, name="licence"),
    path("organisation/", views.my_organisation, name="organisation"),
    path("organisation/edit/", views.edit_organisation, name="organisation_edit"),
    path("organisation/invite/", views.invite, name="invite"),
    path("organisation/people/<int:pk>/deactivate/", views.deactivate, name="deactivate"),
    path("organisation/people/<int:pk>/hand-over/", views.hand_over, name="hand_over"),
]
