"""A BEFFROI_EMAIL_BACKEND dotted path that names no mail backend (a typo in the module or
the class) stops `check`, `serve` and `worker` at start-up with one line, instead of
losing the first mail (a reset link) hours later."""

from __future__ import annotations

import pytest

from beffroi.config import ConfigError
from beffroi.core.ops_checks import check_mail_backend
from fresh_databases import python_process, sqlite_env

CLI = "import sys\nfrom beffroi.cli import main\nsys.exit(main(sys.argv[1:]))\n"
TYPO = "django.core.mail.backends.smtpp.EmailBackend"


@pytest.mark.parametrize(
    ("path", "said"),
    [
        (TYPO, "No module named 'django.core.mail.backends.smtpp'"),
        ("django.core.mail.backends.smtp.EmailBackendd", '"EmailBackendd"'),
        ("django.core.mail.send_mail", "is not a mail backend class"),
        ("django.core.mail.message.EmailMessage", "is not a mail backend class"),
    ],
)
def test_a_dotted_path_that_names_no_backend_is_refused(path, said):
    with pytest.raises(ConfigError) as refused:
        check_mail_backend(path)
    message = str(refused.value)
    assert message.startswith(f"BEFFROI_EMAIL_BACKEND={path!r} ") and said in message
    assert "console or smtp or locmem or dummy" in message


@pytest.mark.parametrize(
    "path",
    [
        "django.core.mail.backends.smtp.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    ],
)
def test_a_backend_that_loads_is_accepted(path):
    check_mail_backend(path)


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["manage", "check"], ["serve", "--port", "0"], ["worker"]])
def test_the_commands_stop_at_start_up_with_one_line(tmp_path, argv):
    env = sqlite_env(tmp_path / "data", BEFFROI_SECRET_KEY="m" * 50, BEFFROI_EMAIL_BACKEND=TYPO)
    proc = python_process(CLI, env, *argv)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, (out, err)
    assert err.startswith(f"beffroi: BEFFROI_EMAIL_BACKEND={TYPO!r} cannot be loaded"), err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # Nothing was served or migrated: the database was never made.
    assert not (tmp_path / "data" / "beffroi.sqlite3").exists()
