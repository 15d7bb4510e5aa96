import pytest
from django.contrib.auth.models import Group, Permission

from pecule.rapprochement import ajouter_permissions_rapprochement
from permis.roles import ajouter_permissions_permis
from regie.roles import REGISSEUR, synchroniser_roles


@pytest.fixture
def roles_rapprochement(db):
    """The role groups with their reconciliation permissions, also after a transactional
    test emptied the tables (migration 0002 gave them first)."""
    if not Group.objects.filter(name=REGISSEUR).exists():
        synchroniser_roles(Group, Permission)
        ajouter_permissions_permis(Group, Permission)
    ajouter_permissions_rapprochement(Group, Permission)
