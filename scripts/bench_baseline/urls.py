from django.contrib.auth.models import Permission
from django.shortcuts import render
from django.urls import path


def rows(request):
    return render(request, "rows.html", {"rows": Permission.objects.order_by("id")[:50]})


urlpatterns = [path("", rows)]
