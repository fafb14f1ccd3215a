from django.conf import settings


def client_ip(request) -> str | None:
    """The client's address. Behind N trusted proxies (``TRUSTED_PROXY_COUNT``), the Nth from the right
    of X-Forwarded-For; otherwise the socket's address (a forged header is never believed)."""
    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if hops:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR")


def axes_client_ip(request) -> str:
    """For django-axes: lock the visitor's address, not the load balancer's."""
    return client_ip(request) or ""


def query_without_page(request) -> str:
    """A list's filters as a query string, for its pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
