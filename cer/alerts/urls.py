from django.urls import path

from cer.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_index, name="index"),
    path("communities/<int:pk>/", views.alert_list, name="list"),
    path("communities/<int:pk>/acknowledge/", views.alert_acknowledge, name="acknowledge"),
]
