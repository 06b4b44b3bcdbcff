from django.urls import path

from ocr import apis

urlpatterns = [
    path("health", apis.HealthApi.as_view(), name="health"),
    path("auth/token", apis.TokenApi.as_view(), name="auth-token"),
    path("document-types", apis.DocumentTypesApi.as_view(), name="document-types"),
    path("ocr/analyze", apis.AnalyzeApi.as_view(), name="analyze"),
    path("ocr/batch-analyze", apis.BatchAnalyzeApi.as_view(), name="batch-analyze"),
    path("ocr/feedback", apis.FeedbackApi.as_view(), name="feedback"),
]
