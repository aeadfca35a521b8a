import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.settings")
django_application = get_asgi_application()

from beffroi.consult.api import with_fast_ballots  # noqa: E402  (needs Django set up)
from beffroi.web.body_limit import with_body_limit  # noqa: E402

# Ballot submissions (/c/<id>/bulletin/) are answered by a raw ASGI handler: no
# request object or middleware per ballot, the same checks as the `submit` view and
# the same writer (bench/consult_load.py, docs/decisions/consult-board-writes.md).
# Every body is bounded before Django copies it to disk (beffroi/web/body_limit.py).
application = with_body_limit(with_fast_ballots(django_application))
