"""Input rules shared by every door (pages, CLI, API): emails, names, slugs, passwords."""

from __future__ import annotations

from collections.abc import Callable

from email_validator import EmailNotValidError, validate_email
from slugify import slugify

from app.credentials import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.errors import ValidationFailed

RESERVED_SLUGS = frozenset(
    {
        "new",
        "settings",
        "admin",
        "api",
        "login",
        "logout",
        "signup",
        "staff",
        "static",
        "orgs",
        "org",
        "members",
        "invitations",
        "teams",
        "audit",
        "token",
        "dev",
        "www",
        "help",
        "support",
        "account",
        "me",
        "self",
        "well-known",
        "deleted",
        "search",
        "switch",
        "children",
        "move",
        "delete",
        "restore",
    }
)
MAX_SLUG_LENGTH = 60
MAX_NAME_LENGTH = 120
MAX_EMAIL_LENGTH = 254  # RFC 5321's longest forward path


# No stored text needs these: control characters (NUL and friends; PostgreSQL refuses
# NUL outright) and the bidirectional overrides and isolates that make a name display
# other than it reads ("exe.png" shown for "gnp.exe").
CONTROL_CHARS = frozenset(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r") | {"\x7f"}
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
FORBIDDEN_CHARS = CONTROL_CHARS | BIDI_CONTROLS
FORBIDDEN_MESSAGE = "Remove the invisible control characters."


def has_forbidden_chars(text: str) -> bool:
    return not FORBIDDEN_CHARS.isdisjoint(text)


def check_text(text: str | None, *, field: str) -> str:
    """Refuse text holding control or direction-override characters; else return it."""
    if text and has_forbidden_chars(text):
        raise ValidationFailed(FORBIDDEN_MESSAGE, field=field)
    return text or ""


def normalize_email(raw: str | None, *, field: str = "email") -> str:
    """Validated, normalised and lower-cased: one spelling per address."""
    try:
        info = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed(f"Enter a valid email address ({exc}).", field=field) from exc
    return info.normalized.lower()


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1]


def clean_name(raw: str | None, *, field: str = "name", limit: int = MAX_NAME_LENGTH) -> str:
    name = " ".join(check_text(raw, field=field).split())
    if not name:
        raise ValidationFailed("Enter a name.", field=field)
    if len(name) > limit:
        raise ValidationFailed(f"Use at most {limit} characters.", field=field)
    return name


def check_password(password: str | None, *, field: str = "password") -> str:
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"Use at least {MIN_PASSWORD_LENGTH} characters for the password.", field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed("That password is too long.", field=field)
    return password


def make_slug(text: str | None, *, field: str = "slug", allow_reserved: bool = False) -> str:
    """Lowercase ASCII, hyphen-separated, transliterated; empty and reserved results refused.

    ``allow_reserved`` is for slugs derived from a name: the caller then numbers a
    reserved result like a taken one (an org called "Settings" lives at settings-2).
    """
    slug = slugify(text or "", max_length=MAX_SLUG_LENGTH, word_boundary=True, save_order=True)
    if not slug:
        raise ValidationFailed(
            "That gives an empty address: use some letters or digits.", field=field
        )
    if slug in RESERVED_SLUGS and not allow_reserved:
        raise ValidationFailed(f"“{slug}” is reserved: choose another.", field=field)
    return slug


def next_free_slug(base: str, is_taken: Callable[[str], bool]) -> str:
    """``base``, else ``base-2``, ``base-3``, … (trimmed so the suffix always fits).

    Reserved words count as taken.
    """
    if base not in RESERVED_SLUGS and not is_taken(base):
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
        if not is_taken(candidate):
            return candidate
        n += 1


def escape_like(text: str) -> str:
    """Make ``%`` and ``_`` (and the escape itself) match literally in a LIKE pattern."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
