"""Content-Security-Policy helpers for tests that start services on random ports."""


def autoriser_suite_de_formulaire(settings, origine: str) -> None:
    """Chrome applies `form-action` to the redirects that follow a form: allow the forms
    of the portal to go on to `origine` (the FranceConnect stand-in, the sandbox bank),
    as the settings do for the configured addresses."""
    politique = {**settings.CONTENT_SECURITY_POLICY}
    directives = {**politique["DIRECTIVES"]}
    if origine not in directives["form-action"]:
        directives["form-action"] = [*directives["form-action"], origine]
    politique["DIRECTIVES"] = directives
    settings.CONTENT_SECURITY_POLICY = politique
