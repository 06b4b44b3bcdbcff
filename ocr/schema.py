"""How the OpenAPI document describes the two ways to authenticate."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SignatureScheme(OpenApiAuthenticationExtension):
    target_class = "ocr.auth.SignatureAuthentication"
    name = "signature"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": (
                "The key id. Every signed request also carries X-Timestamp (Unix seconds), "
                "X-Nonce (16-64 of [A-Za-z0-9_-]) and X-Signature: the lower-case hex "
                "HMAC-SHA256, keyed with the secret, of timestamp, nonce, METHOD, path with "
                "query, and the hex SHA-256 of the body, joined by newlines."
            ),
        }


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "ocr.auth.BearerTokenAuthentication"
    name = "bearer"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A token from POST /api/v1/auth/token, valid for 15 minutes.",
        }
