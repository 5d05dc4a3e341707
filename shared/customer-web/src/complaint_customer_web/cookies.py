"""The cookie that carries a customer's link secret after they opened the link: HttpOnly
(no script reads it), SameSite=Lax (not sent on cross-site posts), Secure unless the
public base URL is plain http (development), and scoped to the one page it opens, so it
is never sent anywhere else, not even to the service's other paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypedDict
from urllib.parse import urlsplit

LINK_COOKIE: Final = "complaint_link"
LANGUAGE_COOKIE: Final = "complaint_lang"


def secure_for(public_base_url: str) -> bool:
    """Cookies are Secure unless the pages are served over plain http (a developer's
    machine); a Secure cookie would never come back over http."""
    return urlsplit(public_base_url).scheme != "http"


SameSite = Literal["lax", "strict", "none"]


class CookieAttributes(TypedDict):
    """The keyword arguments of Starlette's ``Response.set_cookie`` a page's cookie sets."""

    path: str
    secure: bool
    max_age: int
    httponly: bool
    samesite: SameSite


@dataclass(frozen=True)
class CookieSpec:
    """The attributes of a page's cookie, as Starlette's ``Response.set_cookie`` takes
    them."""

    path: str
    secure: bool
    max_age: int
    httponly: bool = True
    samesite: SameSite = "lax"

    def attributes(self) -> CookieAttributes:
        return {
            "path": self.path,
            "secure": self.secure,
            "max_age": self.max_age,
            "httponly": self.httponly,
            "samesite": self.samesite,
        }


def page_cookie(*, public_base_url: str, path: str, max_age: int) -> CookieSpec:
    return CookieSpec(path=path, secure=secure_for(public_base_url), max_age=max_age)
