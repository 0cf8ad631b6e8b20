"""API token authentication against hashed keys (`itsm.ApiToken`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from itsm import services


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as before; the key is looked up by its SHA-256."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        token = services.api_token_authenticate(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
