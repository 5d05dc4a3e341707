"""Sign-in and the session: the development sign-in with a platform token, OpenID Connect
against the organisation's identity provider, sign-out, and the tokens each call to
routing or sla-watch carries for the signed-in user.

**Whose identity an action carries.** Every call the console makes to routing or
sla-watch is made *as the signed-in user*, never as the console: routing checks the user's
own roles and team and records the user as the actor.

- Development sign-in (``CONSOLE_DEV_SIGN_IN=true``): the user pastes a platform token
  (EdDSA, verified with the public keys of ``AUTH_JWKS`` for the audience ``console``;
  a token for another service is refused). The console keeps the user's id, roles and
  team, not the token: it is never forwarded.
- OpenID Connect: the provider's ID token (RS256, checked by Authlib against the provider's
  keys) names the user (``CONSOLE_OIDC_SUBJECT_CLAIM``), their roles and team (claims
  ``CONSOLE_OIDC_ROLES_CLAIM`` / ``CONSOLE_OIDC_TEAM_CLAIM``); the console keeps only
  those three in the session.

Either way, for each request the console signs short-lived platform tokens for the user
(``service.UserTokens``: its own key ``AUTH_SIGNING_KEY``, a staff issuer's kid, never a
service's; ``CONSOLE_PLATFORM_TOKEN_TTL_S``), one per audience, so a token sent to routing
is refused by sla-watch and the other way round. The console can act for anyone it signs
in: routing and sla-watch trust its key as a staff issuer (it can never sign a service's
identity). Without ``AUTH_SIGNING_KEY`` nobody signs in and pages answer "not configured".
"""
