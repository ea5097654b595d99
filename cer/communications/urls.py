from django.urls import path

from cer.communications import views

app_name = "communications"
urlpatterns = [
    path("community/<int:pk>/", views.communication_list, name="list"),
    path("community/<int:pk>/new/", views.compose, name="compose"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/remind/", views.remind, name="remind"),
    path("messages/", views.my_messages, name="my_messages"),
    path("messages/<int:pk>/", views.message, name="message"),
    path("messages/<int:pk>/file/", views.reply_file, name="reply_file"),
]
