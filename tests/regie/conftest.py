import pytest

from tests.horloge import DEBUT_JUILLET_PARIS


@pytest.fixture(autouse=True)
def _instant_fixe(time_machine):
    """The régie's tests run at 00:30 on 1 July 2026 in Paris (30 June in UTC); a test that
    needs another instant moves the clock again, or passes `date_operation`."""
    time_machine.move_to(DEBUT_JUILLET_PARIS)
