"""Fixed instants for the tests: no test depends on the real date or on the machine's time
zone. A test that involves "today", a month, a deadline or an expiry moves the clock with
time-machine's `time_machine` fixture to one of these instants (or its own), and derives
its expectations from it:

    def test_x(time_machine):
        time_machine.move_to(a_paris(2026, 6, 15))

Tests that talk to other processes (Celery workers, the stand-ins, a browser) cannot
move those processes' clocks: they read the instant the code used from the database
instead. CI runs the date-sensitive directories again under libfaketime at the instants
where dates go wrong (scripts/tests-dates.sh)."""

import datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def a_paris(annee: int, mois: int, jour: int, heure: int = 12, minute: int = 0):
    """An aware instant, wall-clock time in Paris."""
    return datetime.datetime(annee, mois, jour, heure, minute, tzinfo=PARIS)


# An ordinary month (200 € allowance) and December (400 €).
MI_JUIN = a_paris(2026, 6, 15, 10)
MI_DECEMBRE = a_paris(2026, 12, 15, 10)
# The first half hour of a month in Paris is still the previous month in UTC: the default
# instant of the régie, payments and documents tests, where a date taken in the wrong zone
# would land in the wrong month's counter.
DEBUT_JUILLET_PARIS = a_paris(2026, 7, 1, 0, 30)
