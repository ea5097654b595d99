"""The overview pages of a community and of a plant, at the paths they always had.

Mounted at the root without a namespace, before cer.communities.urls: the names
`community_detail` and `plant_detail` are used by every app's templates.
"""

from django.urls import URLPattern, URLResolver, path

from cer.dashboards import member_record, overviews

urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:pk>/", overviews.community_detail, name="community_detail"),
    path("plants/<int:pk>/", overviews.plant_detail, name="plant_detail"),
    path("memberships/<int:pk>/", member_record.member_record, name="member_record"),
]
