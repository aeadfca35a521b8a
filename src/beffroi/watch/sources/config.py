"""Validation helpers for source configuration forms (messages in French)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from beffroi.watch.sources.base import ConfigError
from beffroi.watch.sources.netguard import current_authorities, current_policy


class Form:
    """Collects one French error per field, then raises them all at once."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def raw(self, name: str, default: Any = None) -> Any:
        value = self.data.get(name, default)
        return default if value in ("", None) else value

    def text(self, name: str, *, required: bool = False, default: str = "") -> str:
        value = self.raw(name)
        if value is None:
            if required:
                self.error(name, "Ce champ est obligatoire.")
            return default
        if not isinstance(value, str):
            self.error(name, "Texte attendu.")
            return default
        return value.strip()

    def url(self, name: str, *, message: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
        value = self.text(name, required=True)
        if name in self.errors:
            return value
        try:
            parts = urlsplit(value)
            valid = parts.scheme.lower() in schemes and bool(parts.hostname) and " " not in value
        except ValueError:  # "http://[::1": an unbalanced IPv6 bracket
            valid = False
        if not valid:
            self.error(name, message)
            return value
        # What is plainly internal (127.0.0.1, [::1], localhost, 169.254.169.254) is
        # refused here, with its reason; a name is checked when the source connects.
        try:
            refused = current_policy().url_refusal(value)
            if refused is None:
                # Said now rather than on the source's first status: a wrong
                # BEFFROI_SOURCES_CA_FILE fails every TLS connection it would make.
                current_authorities()
        except ValueError as exc:  # one of the deployment's settings itself is wrong
            refused = f"Réglage du serveur invalide : {exc}"
        if refused is not None:
            self.error(name, refused)
        return value

    def number(
        self,
        name: str,
        *,
        default: float,
        minimum: float | None = None,
        maximum: float | None = None,
        unit: str = "",
    ) -> float:
        value = self.raw(name, default)
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.error(name, "Nombre attendu.")
            return default
        if number != number or number in (float("inf"), float("-inf")):
            self.error(name, "Nombre attendu.")
            return default
        suffix = f" {unit}" if unit else ""
        if minimum is not None and number < minimum:
            self.error(name, f"Doit être au moins {minimum:g}{suffix}.")
        if maximum is not None and number > maximum:
            self.error(name, f"Doit être au plus {maximum:g}{suffix}.")
        return number

    def flag(self, name: str, *, default: bool = False) -> bool:
        value = self.raw(name, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "on", "oui", "yes"):
            return True
        if isinstance(value, str) and value.lower() in ("0", "false", "off", "non", "no"):
            return False
        self.error(name, "Oui ou non attendu.")
        return default

    def words(self, name: str) -> tuple[str, ...]:
        """A list field: a JSON list or a comma/newline separated string."""
        value = self.raw(name, ())
        if isinstance(value, str):
            items = [w for chunk in value.splitlines() for w in chunk.split(",")]
        elif isinstance(value, list | tuple):
            items = [str(w) for w in value]
        else:
            self.error(name, "Liste attendue.")
            return ()
        return tuple(dict.fromkeys(w.strip() for w in items if w.strip()))

    def done(self) -> None:
        if self.errors:
            raise ConfigError(self.errors)
