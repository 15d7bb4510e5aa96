"""Short references people can read out on the phone (`PEC-XXXX-XXXX` for a relative's
transfer, `ORD-XXXX-XXXX` for the régie's payment order): an alphabet without the letters
and digits that look alike (no 0/O, no 1/I), within SEPA's character set for end-to-end
ids; and the pattern that finds one in a bank's free text."""

import re
import secrets

ALPHABET_REFERENCE = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def reference_lisible(prefixe: str) -> str:
    corps = "".join(secrets.choice(ALPHABET_REFERENCE) for _ in range(8))
    return f"{prefixe}-{corps[:4]}-{corps[4:]}"


def motif_reference(prefixe: str) -> re.Pattern:
    """A reference with this prefix, alone (not inside a longer word), in upper case."""
    caracteres = re.escape(ALPHABET_REFERENCE)
    return re.compile(
        rf"(?<![A-Z0-9]){re.escape(prefixe)}-[{caracteres}]{{4}}-[{caracteres}]{{4}}(?![A-Z0-9])"
    )
