"""URL patterns of the annual summaries (included into the "reports" namespace by reports/urls.py)."""

urlpatterns: list = []
