"""Shared API plumbing: the one exception handler that maps app errors to HTTP."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_fsm import ConcurrentTransition
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from itsm.exceptions import ServiceError


def exception_handler(exc, context):
    """Every error answers `{"message": …, "field_errors": {…}}` with the right status."""
    if isinstance(exc, ServiceError):
        return Response({"message": exc.message, "field_errors": exc.field_errors},
                        status=exc.status)
    if isinstance(exc, ConcurrentTransition):
        return Response({"message": "Someone else changed this record first; reload it.",
                         "field_errors": {}}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict")
                                         else exc.messages)
    if isinstance(exc, Http404 | PermissionDenied):
        exc = exceptions.NotFound() if isinstance(exc, Http404) else exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"non_field_errors":
                                                                         response.data}
        first = next(iter(errors.items()), ("", [""]))
        message = f"{first[0]}: {first[1][0] if isinstance(first[1], list) else first[1]}"
        response.data = {"message": f"Invalid input ({message}).", "field_errors": errors}
    else:
        response.data = {"message": str(getattr(exc, "detail", exc)), "field_errors": {}}
    return response
