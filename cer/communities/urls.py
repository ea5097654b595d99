from django.urls import path

from cer.communities import views

urlpatterns = [
    path("", views.home, name="home"),
    path("communities/<int:pk>/", views.community_detail, name="community_detail"),
]
