from django import template

from socle.admin import a_faire as entrees_a_faire
from socle.formats import de as formater_de
from socle.formats import euros as formater_euros

register = template.Library()


@register.filter
def euros(montant) -> str:
    """{{ montant|euros }} -> "1 234,50 €"."""
    return formater_euros(montant)


@register.filter
def de(nom) -> str:
    """{{ nom|de }} -> "de Paul DURAND", "d'Antoine LEFÈVRE" (French elision)."""
    return formater_de(str(nom))


@register.simple_tag(takes_context=True)
def a_faire(context):
    """{% a_faire as entrees %}: what waits for the logged-in staff member (socle.admin)."""
    return entrees_a_faire(context["request"])
