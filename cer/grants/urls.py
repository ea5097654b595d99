from django.urls import path

from cer.grants import views

app_name = "grants"
urlpatterns = [
    path("communities/<int:pk>/", views.application_list, name="application_list"),
    path("plants/<int:pk>/", views.application_file, name="file"),
    path("plants/<int:pk>/edit/", views.edit, name="edit"),
    path("plants/<int:pk>/costs/", views.cost_items, name="cost_items"),
    path("plants/<int:pk>/ready/", views.ready, name="ready"),
    path("plants/<int:pk>/submit/", views.submit, name="submit"),
    path("plants/<int:pk>/decision/", views.decision, name="decision"),
    path("plants/<int:pk>/export/", views.download, name="export"),
    path("plants/<int:pk>/phases/", views.phase_create, name="phase_create"),
    path("plants/<int:pk>/phases/documents/", views.document_add, name="document_add"),
    path("plants/<int:pk>/phases/state/", views.phase_state, name="phase_state"),
    path("plants/<int:pk>/other-grants/", views.other_grant, name="other_grant"),
]
