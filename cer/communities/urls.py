from django.urls import path

from cer.communities import views

urlpatterns = [
    path("", views.home, name="home"),
]
