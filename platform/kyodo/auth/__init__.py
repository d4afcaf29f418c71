"""Sign-in (OIDC authorization code + PKCE), the signed-in person, and permission checks."""
