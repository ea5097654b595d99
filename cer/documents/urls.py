from django.urls import URLPattern, URLResolver, path

from cer.documents import views

app_name = "documents"
urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:pk>/", views.archive, name="archive"),
    path("communities/<int:pk>/upload/", views.upload, name="upload"),
    path("versions/<int:pk>/download/", views.download, name="download"),
    path("versions/<int:pk>/pdf/", views.download_pdf, name="download_pdf"),
]
