"""URL patterns of centres' private pages and the three-year assessment (in the "reports" namespace)."""

urlpatterns: list = []
