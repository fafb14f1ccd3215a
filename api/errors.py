"""Every refusal of the API is JSON: ``{"detail": ...}`` or the refused parameters with their messages."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_handler


def exception_handler(error, context):
    if isinstance(error, DjangoValidationError):
        error = exceptions.ValidationError(error.messages)
    return drf_handler(error, context)
