"""The worker with a wrong or unreachable sources' proxy: each network source says so
on its status, and a file import next to them goes on."""

from __future__ import annotations

import threading

import pytest

from source_runs import closed_port, eventually


@pytest.mark.slow
@pytest.mark.parametrize("setting", ["wrong", "down"])
def test_network_sources_say_what_the_proxy_did_while_a_file_import_goes_on(
    transactional_db, members, settings, tmp_path, monkeypatch, setting
) -> None:
    from beffroi.core import actions as core_actions
    from beffroi.watch import actions
    from beffroi.watch.models import Source
    from beffroi.watch.sources import Backoff
    from beffroi.watch.sources.netguard import ALLOW_ENV, PROXY_ENV
    from beffroi.watch.worker import Worker

    settings.DATA_DIR = tmp_path
    (tmp_path / "imports").mkdir()
    feed = tmp_path / "imports" / "posts.csv"
    feed.write_text(
        "id,text,created_at\n1,L'eau monte rue de la Gare à Luçon,2024-01-01T10:00:00Z\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(ALLOW_ENV, "127.0.0.0/8")
    org = core_actions.create_organisation("VOST Test", "vost")
    coord = members["coordinator"]
    activation = actions.create_activation(org, name="Crue", event_type="inondation", actor=coord)
    good = actions.add_source(
        activation, kind="file", name="Fichier", data={"path": str(feed)}, actor=coord
    )
    network = [
        actions.add_source(
            activation,
            kind="rss",
            name="Vigicrues",
            data={"url": f"http://127.0.0.1:{closed_port()}/rss.xml", "timeout": 2},
            actor=coord,
        ),
        actions.add_source(
            activation,
            kind="mastodon",
            name="Instance",
            data={"instance_url": f"http://127.0.0.1:{closed_port()}", "hashtags": ["crue"]},
            actor=coord,
        ),
    ]
    # Set after the sources were saved: an operator changing the worker's environment.
    proxy = f"127.0.0.1:{closed_port()}"
    monkeypatch.setenv(
        PROXY_ENV, "socks5://proxy:1080" if setting == "wrong" else f"http://{proxy}"
    )
    stop = threading.Event()
    worker = Worker(stop, runner_options={"backoff": lambda: Backoff(base=0.05, maximum=0.3)})
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()

    def told(source: Source) -> bool:
        source.refresh_from_db()
        if setting == "wrong":
            return source.status == "failed" and source.status_message == (
                "Configuration invalide : Réglage du serveur invalide : BEFFROI_SOURCES_PROXY : "
                "« socks5://proxy:1080 » n'est pas un proxy http:// (http://hôte:port attendu)."
            )
        return (
            source.status == "error"
            and source.status_message.startswith(f"Proxy des sources injoignable ({proxy}) : ")
            and "Nouvel essai dans" in source.status_message
        )

    try:
        for source in network:
            assert eventually(lambda source=source: told(source)), source.status_message
        assert eventually(lambda: Source.objects.get(pk=good.pk).status == "done")
    finally:
        stop.set()
        thread.join(15)
        assert worker.join_sources(15), "source threads still running"
    good.refresh_from_db()
    assert good.posts_count == 1
