from drf_spectacular.openapi import AutoSchema


class PortalAutoSchema(AutoSchema):
    """Public endpoints (no ``required_scope``) take a token but need none: their security says so."""

    def get_auth(self):
        auths = super().get_auth()
        if getattr(self.view, "required_scope", None) is None and {} not in auths:
            auths.append({})
        return auths


BOUNDS = {
    "page": {"minimum": 1},
    "page_size": {"minimum": 1, "maximum": 100},
    "year": {"minimum": 1900, "maximum": 2999},
    "centre": {"minimum": 1},
}


def document_bounds(result, generator, request, public):
    """Postprocessing hook: the bounds the API enforces on its integer parameters, stated in the schema."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                bounds = BOUNDS.get(parameter.get("name"))
                if bounds and parameter.get("in") == "query" and parameter["schema"].get("type") == "integer":
                    parameter["schema"].update(bounds)
    return result
