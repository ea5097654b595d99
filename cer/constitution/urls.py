"""The constitution wizard: a start page, then one page per step, under /constitute/."""

from django.urls import path

from cer.constitution import views
from cer.constitution.wizard import STEPS

app_name = "constitution"

urlpatterns = [
    path("constitute/", views.wizard_start, name="wizard_start"),
    *(
        path(f"constitute/{step}/", views.wizard_step, {"step": step}, name=f"wizard_{step}")
        for step in STEPS
    ),
]
