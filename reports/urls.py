from reports import assessment_urls, summary_urls, support_urls

app_name = "reports"

urlpatterns = [*summary_urls.urlpatterns, *assessment_urls.urlpatterns, *support_urls.urlpatterns]
