import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "beffroi.settings")
django_application = get_asgi_application()

from beffroi.consult.api import with_fast_ballots  # noqa: E402  (needs Django set up)

# Ballot submissions (POST /c/<id>/bulletin/) skip the middleware stack they do not
# use — same view, same checks — which cuts their server cost by about 3.6x
# (bench/consult_load.py, docs/decisions/consult-board-writes.md).
application = with_fast_ballots(django_application)
