"""Sign-in and the session: the development sign-in with a platform token, OpenID Connect
against the organisation's identity provider, sign-out, and the bearer token each call to
routing or sla-watch carries for the signed-in user.

**Whose identity an action carries.** Every call the console makes to routing or
sla-watch is made *as the signed-in user*, never as the console: routing checks the user's
own roles and team and records the user as the actor.

- Development sign-in (``CONSOLE_DEV_SIGN_IN=true``): the user pastes a platform token
  (HS256, verified with ``AUTH_JWT_SECRET``); the console forwards that very token.
- OpenID Connect: the provider's ID token (RS256, checked by Authlib against the provider's
  keys) names the user (``CONSOLE_OIDC_SUBJECT_CLAIM``), their roles and team (claims
  ``CONSOLE_OIDC_ROLES_CLAIM`` / ``CONSOLE_OIDC_TEAM_CLAIM``). The console keeps only
  those three in the session and, for each request, issues a short-lived platform token
  for them (``complaint_runtime.identity.issue_token``, ``AUTH_JWT_SECRET``,
  ``CONSOLE_PLATFORM_TOKEN_TTL_S``) which routing verifies like any staff token. The
  console can therefore act for anyone its provider vouches for: it holds the platform
  secret, like every service. (The privacy work will replace this issuance with tokens
  the provider itself grants for the platform's audience.)
"""
