from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ocr.metrics import metrics_view

handler404 = "ocr.views.not_found_view"
handler500 = "ocr.views.server_error_view"

urlpatterns = [
    path("api/v1/", include("ocr.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("analytics.urls")),
    path("metrics", metrics_view, name="metrics"),
]
