"""The HTTP conventions of API.md, each in one place.

Errors (`exceptions`), cursor lists (`pagination`), Bearer keys (`authentication`),
`Idempotency-Key` replay (`idempotency`) and body limits (`middleware`) live here so
every endpoint in every app gets them without writing them again.
"""
