from django.urls import URLPattern, URLResolver, path

from cer.signing import views

app_name = "signing"
urlpatterns: list[URLPattern | URLResolver] = [
    path("communities/<int:pk>/", views.request_list, name="list"),
    path("communities/<int:pk>/send/", views.send, name="send"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("requests/<int:pk>/file/", views.sent_file, name="sent_file"),
    path("requests/<int:pk>/signed/", views.signed_copy, name="signed_copy"),
    path("signers/<int:pk>/", views.signer_page, name="signer"),
    path("signers/<int:pk>/code/", views.send_code, name="send_code"),
    path("signers/<int:pk>/sign/", views.confirm_code, name="confirm_code"),
    path("signers/<int:pk>/evidence/", views.evidence_pdf, name="evidence"),
    path("mine/", views.my_signatures, name="mine"),
]
