from django.urls import path

from cer.communities import views, wizard_views
from cer.communities.wizard import STEPS

urlpatterns = [
    path("", views.home, name="home"),
    path("communities/<int:pk>/", views.community_detail, name="community_detail"),
    path("constitute/", wizard_views.wizard_start, name="wizard_start"),
    *(
        path(f"constitute/{step}/", wizard_views.wizard_step, {"step": step}, name=f"wizard_{step}")
        for step in STEPS
    ),
]
