"""The base of every business error of the project.

`str(exc)` (and `exc.message`) is the French message shown to people; `exc.code` is
stable for machines; `exc.details` carries what a caller may need (the entry already
booked, the balance available…).
"""


class ErreurMetier(Exception):
    code = "erreur_metier"

    def __init__(self, message: str, code: str | None = None, **details):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details
