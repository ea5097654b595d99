from django.urls import path

from cer.plants import record_views, views

app_name = "plants"
urlpatterns = [
    path("communities/<int:pk>/", views.plant_list, name="plant_list"),
    path("communities/<int:pk>/new/", views.register, name="register"),
    path("<int:pk>/check/", views.check_again, name="check"),
    path("<int:pk>/verify/", views.verify, name="verify"),
    path("<int:pk>/edit/", record_views.plant_edit, name="edit"),
    path("points/<int:pk>/pod/", record_views.pod_change, name="pod_change"),
]
