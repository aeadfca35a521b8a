"""`beffroi credentials fingerprint FILE…`: the key-list fingerprint over every list.

Run by the credential authority (offline) after a second batch or a reissue: the
fingerprint covers every ``cles-publiques.jsonl`` it made for the consultation, which
is what `beffroi verify` recomputes over ``credentials.jsonl`` (reissued keys
included) and compares with ``--keys-fingerprint``.  docs/decisions/credentials.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="every cles-publiques.jsonl made for the consultation (batches and reissues)",
    )


def run(args: argparse.Namespace) -> int:
    from beffroi.consult.credentials import key_list_fingerprint, merge_key_lists

    try:
        keys = merge_key_lists((str(path), path.read_text("utf-8")) for path in args.files)
    except OSError as exc:
        print(f"erreur : {exc.filename} : illisible ({exc.strerror})", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(
            "erreur : un fichier n'est pas en UTF-8 (cles-publiques.jsonl attendu)", file=sys.stderr
        )
        return 2
    except ValueError as exc:
        print(f"erreur : {exc}", file=sys.stderr)
        return 2
    if not keys:
        print("erreur : aucune clé dans ces fichiers", file=sys.stderr)
        return 2
    with_segment = sum(1 for p in keys if p.segment is not None)
    if 0 < with_segment < len(keys):
        # A reissue made without --previous or --segments has a null segment, while
        # the app gives the key the replaced one's: the figures would not agree.
        missing = len(keys) - with_segment
        print(
            f"erreur : {missing} clé(s) sans segment parmi des clés qui en ont : une "
            "réémission faite sans --previous ni --segments ? Dans son cles-publiques.jsonl, "
            "donnez à la clé réémise le segment du code qu'elle remplace (l'application le "
            "lui donne) : l'empreinte sera alors celle que le vérificateur recalcule.",
            file=sys.stderr,
        )
        return 2
    files = "1 fichier" if len(args.files) == 1 else f"{len(args.files)} fichiers"
    keys_said = "1 clé" if len(keys) == 1 else f"{len(keys)} clés"
    print(
        f"Empreinte de toutes les clés ({keys_said}, {files}), à publier vous-même : "
        f"{key_list_fingerprint((p.public_key, p.segment) for p in keys)}"
    )
    return 0
