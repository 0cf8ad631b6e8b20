"""The app's error hierarchy; `itsm.api.exception_handler` and the views map it to HTTP."""


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidInput(ServiceError):
    """Bad input: nothing was written (400)."""

    @classmethod
    def field(cls, name: str, message: str) -> "InvalidInput":
        return cls(message, field_errors={name: [message]})


class Forbidden(ServiceError):
    """The user may not do this (403)."""

    status = 403


class Conflict(ServiceError):
    """Impossible in the current state, or someone else changed the record first (409)."""

    status = 409
