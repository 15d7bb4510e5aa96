from django import template

from socle.formats import euros as formater_euros

register = template.Library()


@register.filter
def euros(montant) -> str:
    """{{ montant|euros }} -> "1 234,50 €"."""
    return formater_euros(montant)
