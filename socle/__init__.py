"""The toolkit every app of the project shares: the base business error, euro formatting,
today's date, PDF rendering, the DSFR form base and task publishing. It imports no other
app of the project."""
