"""Login with SPID (SAML2) and CIE (OpenID Connect), off by default (docs/spid-cie.md)."""
