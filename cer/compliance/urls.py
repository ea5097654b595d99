from django.urls import path

from cer.compliance import views

app_name = "compliance"
urlpatterns = [
    path("communities/<int:pk>/antimafia/", views.antimafia_file, name="antimafia"),
    path("communities/<int:pk>/antimafia/holders/", views.holder_add, name="holder_add"),
    path("communities/<int:pk>/antimafia/holders/end/", views.holder_end, name="holder_end"),
    path(
        "communities/<int:pk>/antimafia/declarations/",
        views.declaration_add,
        name="declaration_add",
    ),
    path("communities/<int:pk>/antimafia/export/", views.antimafia_export, name="export"),
    path("plants/<int:pk>/", views.plant_checklist, name="plant"),
    path("plants/<int:pk>/evidence/", views.plant_evidence, name="plant_evidence"),
    path("plants/<int:pk>/accept/", views.plant_accept, name="plant_accept"),
]
