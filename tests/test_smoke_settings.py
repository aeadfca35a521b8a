from django.conf import settings


def test_settings_load_with_french_first():
    assert settings.LANGUAGE_CODE == "fr"
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
