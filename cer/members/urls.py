from django.urls import URLPattern, URLResolver, path

from cer.members import record_views, views

app_name = "members"
urlpatterns: list[URLPattern | URLResolver] = [
    path("check/", views.check_field, name="check_field"),
    path("join/<str:token>/", views.join, name="join"),
    path("onboarding/", views.onboarding, name="onboarding"),
    path("communities/<int:pk>/invite/", views.invite, name="invite"),
    path("communities/<int:pk>/history/", views.history, name="history"),
    path("communities/<int:pk>/list/", record_views.member_list, name="member_list"),
    path("invitations/<int:pk>/resend/", record_views.invitation_resend, name="invitation_resend"),
    path("invitations/<int:pk>/revoke/", record_views.invitation_revoke, name="invitation_revoke"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("memberships/<int:pk>/end/", views.end_membership, name="end_membership"),
    path("memberships/<int:pk>/edit/", views.membership_edit, name="membership_edit"),
    path("profile/", views.profile, name="profile"),
]
