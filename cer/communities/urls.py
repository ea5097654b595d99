from django.urls import path

from cer.communities import substation_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "communities/<int:community_id>/substations/",
        substation_views.substation_list,
        name="substations",
    ),
]
