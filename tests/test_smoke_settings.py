from django.conf import settings

import beffroi.settings as production


def test_settings_load_with_french_first():
    assert settings.LANGUAGE_CODE == "fr"


def test_production_hashes_passwords_with_argon2():
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_the_smtp_server_and_its_account_come_from_the_environment():
    """An operator sends invitations through a provider's relay by setting variables only
    (the README's table), not by editing settings."""
    import json
    import os
    import subprocess
    import sys

    env = os.environ | {
        "BEFFROI_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "BEFFROI_EMAIL_HOST": "smtp.example.org",
        "BEFFROI_EMAIL_PORT": "587",
        "BEFFROI_EMAIL_USER": "mairie",
        "BEFFROI_EMAIL_PASSWORD": "s3cret",
        "BEFFROI_EMAIL_STARTTLS": "yes",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = (
        "import json, beffroi.settings as s; print(json.dumps([s.EMAIL_HOST, s.EMAIL_PORT,"
        " s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.EMAIL_USE_SSL]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "smtp.example.org",
        587,
        "mairie",
        "s3cret",
        True,
        False,
    ]
    assert production.EMAIL_HOST == "localhost" and production.EMAIL_USE_TLS is False
