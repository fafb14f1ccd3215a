from captcha.views import captcha_image
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from accounts.views import set_language
from api.urls import open_data_patterns
from config.health import healthz

admin.site.site_header = _("重庆市制造业创新中心管理平台 · 后台管理")
admin.site.site_title = _("后台管理")

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("applications.registration_urls")),
    path("applications/", include("applications.urls")),
    path("review/", include("evaluation.urls")),
    path("experts/", include("evaluation.pool_urls")),
    path("announcements/", include("evaluation.public_urls")),
    path("centres/", include("centres.urls")),
    path("after-award/", include("reports.urls")),
    path("api/", include("api.urls")),
    path("open-data/", include(open_data_patterns)),
    path("verify/", include("evaluation.verify_urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    # Only the picture of django-simple-captcha (no audio, no refresh): the sign-in form's CAPTCHA.
    path("captcha/image/<str:key>/", captcha_image, {"scale": 1}, name="captcha-image"),
    path("admin/", admin.site.urls),
]
