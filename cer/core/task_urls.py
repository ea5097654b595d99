"""The pages of the background tasks a person asked for (cer/core/task_views.py)."""

from django.urls import URLPattern, URLResolver, path

from cer.core import task_views

app_name = "tasks"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", task_views.task_list, name="tasks"),
    path("<int:record_id>/", task_views.task_status, name="task"),
    path("<int:record_id>/file/", task_views.task_file, name="task_file"),
]
