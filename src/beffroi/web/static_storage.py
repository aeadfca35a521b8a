"""Static files storage: hashed and precompressed once collected, plain names until then."""

from __future__ import annotations

from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig
from servestatic.storage import CompressedManifestStaticFilesStorage


class HashedStaticStorage(CompressedManifestStaticFilesStorage):
    """ServeStatic's manifest storage, tolerant of a STATIC_ROOT not collected yet.

    `beffroi serve` collects on start, so pages name `beffroi.<hash>.css`, which is
    cached for a year. A process that never collected (`beffroi manage runserver`, the
    test suite, a page rendered from `beffroi manage shell`) would make the strict
    manifest storage raise on every `{% static %}`; it names the plain file instead,
    which the middleware finds in the apps and serves with a short cache lifetime.
    """

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            # Raised both for a name missing from the manifest and for a file absent
            # from STATIC_ROOT (the hashed name is computed from the file's content).
            return name


class StaticFilesConfig(BaseStaticFilesConfig):
    """django.contrib.staticfiles, collecting only what a browser is sent.

    The npm packages ship unminified sources with their maps, type declarations and module
    variants next to the minified files the pages load (whose own maps are kept: the
    manifest rewrites the reference to them); hashing and compressing them made every
    collection several times slower for files no page names.
    """

    ignore_patterns = [
        *BaseStaticFilesConfig.ignore_patterns,
        "*.d.ts",
        "*.esm.js",
        "*.esm.js.map",
        "*.cjs.js",
        "*.amd.js",
        "*-src.js",
        "*-src.js.map",
        "README.md",
    ]
