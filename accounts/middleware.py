from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class ChineseFirstLocaleMiddleware:
    """Chinese unless the person chose English with the switch in the header.

    Django's LocaleMiddleware would follow the browser's Accept-Language; a Chongqing government portal
    shows Chinese to everyone first, so only the language cookie set by ``set_language`` counts here.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if code not in self.available:
            code = settings.LANGUAGE_CODE
        translation.activate(code)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
