"""How a refused step reaches the person: the reason, and each detail, as page messages."""

from django.contrib import messages


def show_refusal(request, error) -> None:
    messages.error(request, error.message)
    for detail in error.details:
        messages.warning(request, detail)
