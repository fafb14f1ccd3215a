from reports import assessment_urls, summary_urls

app_name = "reports"

urlpatterns = [*summary_urls.urlpatterns, *assessment_urls.urlpatterns]
