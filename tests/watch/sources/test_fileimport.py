from __future__ import annotations

import csv
import io
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beffroi.watch.sources.base import ConfigError, RawPost, Skipped, SourceError
from beffroi.watch.sources.fileimport import (
    FileImportConfig,
    FileImportSource,
    FileReader,
    parse_time,
    snowflake_time,
)
from beffroi.watch.sources.runner import run_source

CRISISLEX = Path(__file__).resolve().parents[3].parent / "shared/data/crisislex/CrisisLexT26"

LABELLED = (
    "Tweet ID, Tweet Text, Information Source, Information Type, Informativeness\n"
    '"347686624563429378","RT @CBCAlerts: Canmore declares state of emergency #Alberta",'
    "Media,Affected individuals,Related and informative\n"
    '"347766337344503808","Call 403-678-1551, ""now"" #abflood",Media,Caution and advice,'
    "Related and informative\n"
    '"347779159327637504","not in the timestamps file",Outsiders,Not applicable,Not related\n'
)
TIMESTAMPS = (
    "Timestamp, Tweet-ID, Included(Y/N)\n"
    '"Thu Jun 20 12:05:25 +0000 2013","347686624563429378",Y\n'
    '"Thu Jun 20 17:22:10 +0000 2013","347766337344503808",Y\n'
)


def reader(path: Path, pseudonymise, **kw) -> FileReader:
    return FileReader(FileImportConfig(str(path), **kw), source_id="imp", pseudonymise=pseudonymise)


def test_crisislex_joined_on_tweet_id_with_snowflake_fallback(tmp_path, pseudonymise) -> None:
    folder = tmp_path / "2013_Alberta_floods"
    folder.mkdir()
    labelled = folder / "2013_Alberta_floods-tweets_labeled.csv"
    labelled.write_text(LABELLED)
    (folder / "2013_Alberta_floods-tweetids_entire_period.csv").write_text(TIMESTAMPS)
    items = list(reader(labelled, pseudonymise).records())
    assert all(isinstance(i, RawPost) for i in items)
    first, second, third = items
    assert first.external_id == "347686624563429378"
    assert first.created_at == datetime(2013, 6, 20, 12, 5, 25, tzinfo=UTC)
    assert first.raw["labels"] == {
        "source": "Media",
        "info_type": "Affected individuals",
        "informativeness": "Related and informative",
    }
    assert second.text == 'Call 403-678-1551, "now" #abflood'
    # Not in the timestamps file: dated from the snowflake id itself.
    assert third.raw["created_at_from"] == "snowflake"
    assert third.created_at == snowflake_time("347779159327637504")
    assert abs((snowflake_time(first.external_id) - first.created_at).total_seconds()) < 1


def test_real_crisislex_event_imports_completely(pseudonymise) -> None:
    folder = CRISISLEX / "2013_Alberta_floods"
    if not folder.is_dir():
        pytest.skip("shared CrisisLexT26 data not present next to the checkout")
    items = list(reader(folder / "2013_Alberta_floods-tweets_labeled.csv", pseudonymise).records())
    assert len(items) == 1000 and all(isinstance(i, RawPost) for i in items)
    assert sum(i.raw["created_at_from"] == "timestamps" for i in items) == 1000
    assert {i.raw["labels"]["source"] for i in items} >= {"Media", "Government", "Eyewitness"}


def test_generic_csv_with_bad_rows_reported_by_line(tmp_path, pseudonymise) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        "id,text,created_at,author,lat,lon,lang,media,extra\n"
        '1,"Cave inondée\nrue Nationale",2026-11-23T03:00:00+01:00,@Marie,44.12,4.08,fr,'
        "https://x.invalid/a.jpg https://x.invalid/b.jpg,kept\n"
        "2,sans date,,,,,,,\n"
        ",sans id,2026-11-23T03:00:00Z,,,,,,\n"
        "4,mauvaise date,hier soir,,,,,,\n"
        "5,coordonnées,2026-11-23T03:00:00Z,,95,4,,,\n"
        "6,trop,de,colonnes,,,,,,,\n"
        "7,,2026-11-23T03:00:00Z,,,,,,\n"
        "8,ok,1795402800,,,,,,\n"
    )
    items = list(reader(path, pseudonymise).records())
    posts = [i for i in items if isinstance(i, RawPost)]
    skips = [i for i in items if isinstance(i, Skipped)]
    assert [p.external_id for p in posts] == ["1", "8"]
    first = posts[0]
    assert first.text == "Cave inondée\nrue Nationale"
    assert first.created_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert first.coordinates == (44.12, 4.08)
    assert first.media_urls == ("https://x.invalid/a.jpg", "https://x.invalid/b.jpg")
    assert first.author_key == pseudonymise("@Marie") and "Marie" not in repr(first.raw)
    # Columns outside the format's allow-list are not stored (import-posts.md).
    assert first.raw == {}
    assert [(s.where, s.reason) for s in skips] == [
        ("ligne 4", "Date manquante (colonne created_at)."),
        ("ligne 5", "Identifiant manquant."),
        ("ligne 6", "Date illisible « hier soir »."),
        ("ligne 7", "Coordonnées hors limites « 95, 4 »."),
        ("ligne 8", "11 colonnes au lieu de 9."),
        ("ligne 9", "Texte manquant."),
    ]


def test_jsonl_with_malformed_lines(tmp_path, pseudonymise) -> None:
    path = tmp_path / "posts.jsonl"
    lines = [
        json.dumps(
            {
                "id": "a",
                "text": "Pont fermé",
                "created_at": "2026-11-23T03:00:00Z",
                "coordinates": [43.6, 3.9],
                "media": ["https://x.invalid/p.jpg"],
                "reply_to": "z",
                "lang": "fr",
                "context": {"screen_name": "@raw_handle", "retweets": 3},
            }
        ),
        "{not json",
        "[1, 2]",
        "",
        json.dumps({"id": 7, "text": "numérique", "created_at": 1795402800}),
    ]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b'{"id": "x", "text": "\xff"}\n')
    items = list(reader(path, pseudonymise).records())
    assert [i.external_id for i in items if isinstance(i, RawPost)] == ["a", "7"]
    assert items[0].coordinates == (43.6, 3.9) and items[0].reply_to == "z"
    assert items[0].raw == {}  # no column outside the allow-list, so no handle, even nested
    assert [(s.where, s.reason.split(" (")[0]) for s in items if isinstance(s, Skipped)] == [
        ("ligne 2", "JSON mal formé"),
        ("ligne 3", "Un objet JSON est attendu sur chaque ligne."),
        ("ligne 6", "Encodage invalide"),
    ]


def test_missing_columns_and_broken_quotes_fail_clearly(tmp_path, pseudonymise) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,body\n1,x\n")
    with pytest.raises(SourceError, match=r"ligne 1.*text"):
        list(reader(path, pseudonymise).records())
    path.write_text('id,text,created_at\n1,"ok",2026-01-01\n2,"broken"x,2026-01-01\n')
    with pytest.raises(SourceError, match="ligne 3"):
        list(reader(path, pseudonymise).records())


def test_config_form(tmp_path) -> None:
    with pytest.raises(ConfigError) as err:
        FileImportConfig.from_form({"path": str(tmp_path / "none.csv"), "format": "xls"})
    assert err.value.errors == {
        "format": "Format inconnu : choisir csv, jsonl, crisislex ou auto.",
        "path": "Fichier introuvable.",
    }


def test_source_resumes_from_checkpoint_in_batches(tmp_path, pseudonymise, recorder) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(
        "".join(
            json.dumps({"id": str(i), "text": f"t{i}", "created_at": 1795402800 + i}) + "\n"
            for i in range(25)
        )
    )
    stop = threading.Event()
    config = FileImportConfig(str(path), batch_size=4)

    def sink(posts, checkpoint) -> None:
        recorder.sink(posts, checkpoint)
        if len(recorder.posts) >= 10:
            stop.set()

    run_source(
        FileImportSource("imp", config, pseudonymise=pseudonymise),
        None,
        sink,
        stop_event=stop,
        sleep=lambda s: None,
    )
    assert len(recorder.posts) == 12
    final = run_source(
        FileImportSource("imp", config, pseudonymise=pseudonymise),
        recorder.checkpoints[-1],
        recorder.sink,
        stop_event=threading.Event(),
        sleep=lambda s: None,
        on_status=recorder.status,
    )
    assert recorder.ids == [str(i) for i in range(25)]
    assert final["state"] == {"record": 25}
    assert recorder.statuses[-1].state == "done"


def test_parse_time_formats() -> None:
    expected = datetime(2013, 6, 20, 3, 56, 19, tzinfo=UTC)
    for text in (
        "Thu Jun 20 03:56:19 +0000 2013",
        "2013-06-20T05:56:19+02:00",
        "2013-06-20 03:56:19",
        "Thu, 20 Jun 2013 03:56:19 GMT",
        "1371700579",
    ):
        assert parse_time(text) == expected, text
    for bad in ("", "hier", "nan", True):
        with pytest.raises(ValueError):
            parse_time(bad)


rows = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and s != ""),
            "text": st.text(min_size=1, max_size=60).filter(lambda s: s.strip() != ""),
            "ts": st.integers(min_value=0, max_value=4_000_000_000),
        }
    ),
    max_size=15,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows, as_jsonl=st.booleans())
def test_fuzz_roundtrip(tmp_path_factory, pseudonymise, rows, as_jsonl) -> None:
    path = tmp_path_factory.mktemp("fz") / ("f.jsonl" if as_jsonl else "f.csv")
    # Lone surrogates cannot be written as UTF-8; they are not valid text.
    rows = [r for r in rows if not any("\ud800" <= c <= "\udfff" for c in r["id"] + r["text"])]
    if as_jsonl:
        path.write_text(
            "".join(
                json.dumps({"id": r["id"], "text": r["text"], "created_at": r["ts"]}) + "\n"
                for r in rows
            ),
            encoding="utf-8",
        )
    else:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["id", "text", "created_at"])
        writer.writerows([[r["id"], r["text"], r["ts"]] for r in rows])
        path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    items = list(reader(path, pseudonymise, format="jsonl" if as_jsonl else "csv").records())
    assert [(i.external_id, i.text, int(i.created_at.timestamp())) for i in items] == [
        (r["id"], r["text"], r["ts"]) for r in rows
    ]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["csv", "jsonl", "crisislex"]))
def test_fuzz_garbage_never_crashes(tmp_path_factory, pseudonymise, data, fmt) -> None:
    path = tmp_path_factory.mktemp("gb") / "g.txt"
    header = {
        "csv": b"id,text,created_at\n",
        "jsonl": b"",
        "crisislex": b"Tweet ID, Tweet Text, Information Source, Information Type, "
        b"Informativeness\n",
    }[fmt]
    path.write_bytes(header + data)
    try:
        items = list(reader(path, pseudonymise, format=fmt).records())
    except SourceError as exc:
        assert "ligne" in exc.message  # a broken CSV names where it broke
        return
    for item in items:
        assert isinstance(item, RawPost | Skipped)
        if isinstance(item, Skipped):
            assert item.where.startswith("ligne ") and item.reason
        else:
            assert item.created_at.tzinfo is not None and item.text.strip()
