from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView, TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ocr.metrics import metrics_view
from quickvault.runtime import API_PREFIX

handler404 = "ocr.views.not_found_view"
handler500 = "ocr.views.server_error_view"

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="index"),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg")), name="favicon"),
    path(API_PREFIX.removeprefix("/"), include("ocr.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    path("dashboard/", include("analytics.urls")),
    path("metrics", metrics_view, name="metrics"),
]
