from django.urls import path

from cer.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("communities/<int:pk>/", views.community_dashboard, name="community"),
    path("points/<int:pk>/", views.point_dashboard, name="point"),
    path("me/", views.member_portal, name="member_portal"),
]
