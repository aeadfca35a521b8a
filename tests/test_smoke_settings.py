from django.conf import settings

import beffroi.settings as production


def test_settings_load_with_french_first():
    assert settings.LANGUAGE_CODE == "fr"


def test_production_hashes_passwords_with_argon2():
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
