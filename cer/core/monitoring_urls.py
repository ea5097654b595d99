"""The health check and the metrics, at the root: no language prefix, no login."""

from django.urls import path

from cer.core.monitoring_views import healthz, metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
]
