"""Printable documents as PDF (WeasyPrint), with Chinese fonts (Debian's fonts-noto-cjk).

PDF templates extend ``pdf/base.html``, which carries its own styles: nothing is fetched over the network
while rendering, so a single web worker cannot deadlock on itself.
"""

from django.http import HttpResponse
from django.template.loader import render_to_string


def pdf_response(request, template: str, context: dict, filename: str) -> HttpResponse:
    from weasyprint import HTML  # imported here: loading it pulls in Pango, only needed for PDFs

    html = render_to_string(template, context, request=request)
    response = HttpResponse(HTML(string=html).write_pdf(), content_type="application/pdf")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{_quote(filename)}"
    return response


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
