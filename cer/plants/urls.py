from django.urls import path

from cer.plants import views

app_name = "plants"
urlpatterns = [
    path("communities/<int:pk>/", views.plant_list, name="plant_list"),
    path("communities/<int:pk>/new/", views.register, name="register"),
    path("<int:pk>/check/", views.check_again, name="check"),
    path("<int:pk>/verify/", views.verify, name="verify"),
]
