"""Request-wide middleware of the portal: the client's address behind the reverse proxy,
the Content-Security-Policy of every page (public pages and admin), and the French page
of a page not found even with DEBUG on."""

import ipaddress

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings

from .views import page_non_trouvee


def reseaux(adresses) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """`["127.0.0.1", "10.0.0.0/8"]` as networks (a bare address is a /32 or /128)."""
    return [ipaddress.ip_network(adresse.strip(), strict=False) for adresse in adresses]


def _adresse(texte: str):
    try:
        adresse = ipaddress.ip_address(texte.strip())
    except ValueError:
        return None
    return (adresse.ipv4_mapped or adresse) if adresse.version == 6 else adresse


def adresse_client(meta: dict, proxys_de_confiance) -> str:
    """The client's address from a request's META.

    The peer (REMOTE_ADDR) is the client unless it is one of our trusted proxies; then
    X-Forwarded-For is read from the right (each proxy appends the address it received
    the request from), trusted proxies are skipped and the first other address is the
    client. What a client writes in X-Forwarded-For itself is further left, so it is
    never taken; a peer that is not a trusted proxy is never believed at all."""
    pair = meta.get("REMOTE_ADDR", "")
    adresse = _adresse(pair)
    if adresse is None or not any(adresse in reseau for reseau in proxys_de_confiance):
        return pair
    chaine = [a for a in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for element in reversed(chaine):
        precedente = _adresse(element)
        if precedente is None:
            break  # unreadable: stop at the last proxy that is ours
        adresse = precedente
        if not any(adresse in reseau for reseau in proxys_de_confiance):
            break
    return str(adresse)


class AdresseClientMiddleware:
    """Sets REMOTE_ADDR to the client's address when the request came through one of the
    trusted proxies (settings.PECULE_PROXYS_DE_CONFIANCE): the rate limits of « Ajouter un
    permis de visite », the attempt records, the admin's brute-force lock and the
    notification log then see the relative, not the proxy. First in MIDDLEWARE."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.proxys = reseaux(settings.PECULE_PROXYS_DE_CONFIANCE)

    def __call__(self, request):
        if self.proxys:
            request.META["REMOTE_ADDR"] = adresse_client(request.META, self.proxys)
        return self.get_response(request)


class PolitiqueSecuriteMiddleware(CSPMiddleware):
    """django-csp's middleware with one policy more: the admin's
    (settings.CONTENT_SECURITY_POLICY_ADMIN) on every URL under its prefix, the public
    pages' strict policy with nonces everywhere else. No page goes without a policy."""

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        admin = settings.CONTENT_SECURITY_POLICY_ADMIN
        if not report_only and request.path_info.startswith(admin["PREFIXE"]):
            return PolicyParts(config=admin["DIRECTIVES"])
        return super().get_policy_parts(request, response, report_only)


class Page404Middleware:
    """With DEBUG on (the local run), Django answers a page not found with its technical
    page, in English; the portal shows its own French page whatever DEBUG says (Django
    still logs « Not Found » in the console). A 404 the portal rendered itself, or one
    that is not an HTML page (the API's JSON), is left as it is. Last in MIDDLEWARE, so
    that the Content-Security-Policy is set on the page actually sent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        reponse = self.get_response(request)
        if (
            settings.DEBUG
            and reponse.status_code == 404
            and not getattr(reponse, "page_du_portail", False)
            and reponse.get("Content-Type", "").startswith("text/html")
        ):
            return page_non_trouvee(request)
        return reponse
