"""A file import keeps only its allow-listed columns in a post's raw payload: the other
columns of a tweet export (the author's screen name, id, name, phone, address) are left
out before storage, and the import's status names them (review R16, finding 1)."""

from __future__ import annotations

import json
import threading

from beffroi.watch.sources.base import RawPost
from beffroi.watch.sources.fileimport import FileImportConfig, FileImportSource, FileReader
from beffroi.watch.sources.runner import not_kept_note, run_source
from beffroi.watch.views_i18n import SOURCE_STATUS

PERSONAL = ("jeanne_dupont", "1234567890", "Jeanne Dupont", "0612345678", "192.0.2.7")
HEADER = "id,text,created_at,user_screen_name,author.username,author_id,from_user,name,phone,ip"
ROW = (
    "1,Rue inondée,2026-11-23T03:00:00Z,jeanne_dupont,jeanne_dupont,1234567890,"
    "jeanne_dupont,Jeanne Dupont,0612345678,192.0.2.7"
)
DROPPED = ["user_screen_name", "author.username", "author_id", "from_user", "name", "phone", "ip"]


def test_an_exports_author_columns_are_not_kept(tmp_path, pseudonymise) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{HEADER}\n{ROW}\n")
    reader = FileReader(FileImportConfig(str(path)), source_id="f", pseudonymise=pseudonymise)
    [post] = list(reader.records())
    assert isinstance(post, RawPost) and post.text == "Rue inondée"
    assert post.raw == {}
    assert not any(value in repr(post) for value in PERSONAL)
    assert list(reader.not_kept) == DROPPED


def test_the_import_status_names_the_columns_not_kept(tmp_path, pseudonymise, recorder) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f"{HEADER}\n{ROW}\n")
    source = FileImportSource("f", FileImportConfig(str(path)), pseudonymise=pseudonymise)
    run_source(
        source,
        None,
        recorder.sink,
        stop_event=threading.Event(),
        sleep=lambda s: None,
        on_status=recorder.status,
    )
    done = recorder.statuses[-1]
    assert done.state == "done"
    assert done.message == (
        "Import terminé : 1 message reçu depuis le démarrage du worker. Colonnes non "
        "conservées (7) : " + ", ".join(DROPPED) + "."
    )
    # The English page reads it with the catalogue (a template matches it whole).
    found = SOURCE_STATUS.match(done.message)
    assert found is not None and found[1]["names"] == ", ".join(DROPPED)


def test_one_column_not_kept_is_said_in_the_singular(tmp_path, pseudonymise) -> None:
    path = tmp_path / "export.csv"
    path.write_text("id,text,created_at,phone\n1,Digue,2026-11-23T03:00:00Z,0612345678\n")
    batch = FileImportSource("f", FileImportConfig(str(path)), pseudonymise=pseudonymise).poll({})
    assert batch.not_kept == ("phone",)
    note = not_kept_note(batch.not_kept)
    assert note == " Colonne non conservée : phone."
    assert SOURCE_STATUS.match(f"Import terminé : 1 message reçu.{note}") is not None
    assert batch.posts[0].raw == {}


def test_a_file_with_only_known_columns_says_nothing_more(tmp_path, pseudonymise) -> None:
    path = tmp_path / "posts.csv"
    path.write_text("id,text,created_at,author,lang\n1,Digue,2026-11-23T03:00:00Z,@a,fr\n")
    batch = FileImportSource("f", FileImportConfig(str(path)), pseudonymise=pseudonymise).poll({})
    assert batch.not_kept == () and not_kept_note(batch.not_kept) == ""
    assert batch.posts[0].raw == {} and batch.posts[0].language == "fr"


def test_a_jsonl_files_crisislex_labels_are_kept_and_nothing_nested(tmp_path, pseudonymise) -> None:
    path = tmp_path / "posts.jsonl"
    labels = {"source": "Eyewitness", "info_type": "Caution and advice", "informativeness": "x"}
    records = [
        {"id": "a", "text": "Pont fermé", "created_at": 1795402800, "labels": labels},
        # Labels that hold more than the three CrisisLex keys are not labels.
        {"id": "b", "text": "Digue", "created_at": 1795402800, "labels": {"user": "jeanne"}},
        {"id": "c", "text": "Crue", "created_at": 1795402800, "user": {"screen_name": "j"}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    reader = FileReader(FileImportConfig(str(path)), source_id="f", pseudonymise=pseudonymise)
    posts = [p for p in reader.records() if isinstance(p, RawPost)]
    assert [p.raw for p in posts] == [{"labels": labels}, {}, {}]
    assert list(reader.not_kept) == ["labels"]
    # "user" is the author column's alias: pseudonymised, never in raw.
    assert posts[2].author_key == pseudonymise(str({"screen_name": "j"}))


def test_a_long_hostile_list_of_columns_is_named_in_part(tmp_path, pseudonymise) -> None:
    path = tmp_path / "posts.jsonl"
    record = {"id": "a", "text": "Pont", "created_at": 1795402800}
    record |= {f"col{i:03d}" + "x" * 60: i for i in range(100)}
    path.write_text(json.dumps(record) + "\n")
    batch = FileImportSource("f", FileImportConfig(str(path)), pseudonymise=pseudonymise).poll({})
    note = not_kept_note(batch.not_kept)
    assert note.startswith(" Colonnes non conservées (100) : col000xxx")
    names = note.split(" : ", 1)[1].removesuffix(".").split(", ")
    assert len(names) == 21 and names[-1] == "…"
    assert max(len(name) for name in names) <= 40
