from django.urls import path

from evaluation import panel_views, publicity_views, views

app_name = "evaluation"

urlpatterns = [
    path("staff/", views.workbench, name="staff_home"),
    path("expert/", panel_views.my_assignments, name="expert_home"),
    path("expert/assignments/<int:pk>/", panel_views.assignment_page, name="assignment"),
    path("applications/<int:pk>/panel/", panel_views.panel_page, name="panel"),
    path("applications/<int:pk>/inspection/", panel_views.inspection_page, name="inspection"),
    path("applications/<int:pk>/inspection/record/", panel_views.inspection_record, name="inspection_record"),
    path("applications/<int:pk>/inspection/upload/", panel_views.inspection_upload, name="inspection_upload"),
    path(
        "applications/<int:pk>/inspection/sign-off/",
        panel_views.inspection_sign_off,
        name="inspection_sign_off",
    ),
    path(
        "applications/<int:pk>/inspection/files/<int:file_pk>/",
        panel_views.inspection_file,
        name="inspection_file",
    ),
    path("applications/<int:pk>/comprehensive/", panel_views.comprehensive_page, name="comprehensive"),
    path("applications/<int:pk>/summary/", panel_views.summary, name="summary"),
    path("applications/<int:pk>/", views.application_page, name="application"),
    path("applications/<int:pk>/preliminary/", views.preliminary, name="preliminary"),
    path("applications/<int:pk>/move/<slug:name>/", views.move, name="move"),
    path("leadership/", views.leadership, name="leadership"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<int:year>/", views.calendar_year, name="calendar_year"),
    path("publicity/", publicity_views.announcements, name="announcements"),
    path("publicity/new/", publicity_views.open_publicity, name="publicity_new"),
    path("publicity/<int:pk>/objections/", publicity_views.objections, name="objections"),
    path("objections/<int:pk>/files/<int:file_pk>/", publicity_views.objection_file, name="objection_file"),
    path("applications/<int:pk>/approval/", publicity_views.approval_and_award, name="approval"),
    path("applications/<int:pk>/approval/notice/", publicity_views.approval_notice, name="approval_notice"),
    path("applications/<int:pk>/plaque/", publicity_views.plaque_sheet, name="plaque_sheet"),
]
