from django.urls import URLPattern, URLResolver, path

from cer.documents import retention_views, views

app_name = "documents"
urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:pk>/", views.archive, name="archive"),
    path("communities/<int:pk>/upload/", views.upload, name="upload"),
    path("communities/<int:pk>/redraft/", views.redraft, name="redraft"),
    path("memberships/<int:pk>/mandate.docx", views.mandate_docx, name="mandate_docx"),
    path("memberships/<int:pk>/mandate.pdf", views.mandate_pdf, name="mandate_pdf"),
    path("versions/<int:pk>/download/", views.download, name="download"),
    path("versions/<int:pk>/pdf/", views.download_pdf, name="download_pdf"),
    path("<int:pk>/", views.document_page, name="document"),
    path("communities/<int:pk>/retention/", retention_views.periods, name="retention"),
    path("communities/<int:pk>/review/", retention_views.review, name="review"),
    path("<int:pk>/keep/", retention_views.keep, name="keep"),
    path("<int:pk>/delete/", retention_views.delete, name="delete"),
]
