"""Signed license certificates that anyone can verify offline.

A certificate is a compact JWS (Ed25519 keys, JWS algorithm `EdDSA` of RFC 8037)
over a JSON statement of a license. The public keys are published as a JWKS at
`/.well-known/accord-keys.json`; a rotated key stays published (verify-only), so old
certificates stay verifiable for as long as their licenses matter.
"""
