from django.urls import path

from cer.dashboards import live, views

app_name = "dashboards"
urlpatterns = [
    path("communities/<int:pk>/", views.community_dashboard, name="community"),
    path("communities/<int:pk>/live/", live.live_page, name="live"),
    path("communities/<int:pk>/live/stream", live.live_stream, name="live_stream"),
    path("communities/<int:pk>/live/snapshot", live.live_snapshot, name="live_snapshot"),
    path("points/<int:pk>/", views.point_dashboard, name="point"),
    path("me/", views.member_portal, name="member_portal"),
]
