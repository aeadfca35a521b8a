"""`beffroi credentials generate`: run by the credential authority, offline.

Writes into --out:
  lettres.pdf           one letter per page (private: give each to its holder)
  codes.csv             the same for mail merge (private)
  cles-publiques.jsonl  the public keys and their segment: the ONLY file the
                        organiser receives

With --replace PUBLIC_KEY --reason TEXT (a lost or stolen letter), one new
credential is made and `revocation.jsonl` is written too. With --previous (the
lists made before), the new key takes the lost key's segment and the fingerprint
of every key is printed for the authority to republish; without it the tool
cannot know the lost key's segment: the new key carries the one --segments
SEG=1 gives, or none. The organiser copies the old key, the reason and the new key into the
app's « Révoquer un code perdu », and the app gives the new key the old one's
segment whatever the file says.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUTPUTS = ("lettres.pdf", "codes.csv", "cles-publiques.jsonl", "revocation.jsonl")


def _segments(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, part in enumerate(text.split(","), start=1):
        name, sep, count = part.strip().partition("=")
        if not sep or not name or not re.fullmatch(r"[0-9]+", count.strip()):
            raise argparse.ArgumentTypeError(
                f"segment {i} ({part!r}) : forme CODE=NOMBRE attendue, ex. A1=212"
            )
        if name in out:
            raise argparse.ArgumentTypeError(f"segment {name!r} en double")
        out[name] = int(count)
    return out


def _label(text: str) -> tuple[str, str]:
    code, sep, label = text.partition("=")
    if not sep or not code.strip() or not label.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r} : forme CODE=LIBELLÉ attendue, ex. A1='École Jules-Ferry'"
        )
    return code.strip(), label.strip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=int, help="number of credentials (without segments)")
    parser.add_argument(
        "--segments", type=_segments, help="credentials per segment, e.g. A1=212,A2=148"
    )
    parser.add_argument("--consultation-id", required=True, help="the consultation's id")
    parser.add_argument("--base-url", required=True, help="public URL of the Beffroi site")
    parser.add_argument("--title", default="Consultation", help="title printed on the letters")
    parser.add_argument(
        "--label",
        action="append",
        type=_label,
        default=[],
        metavar="CODE=LABEL",
        help="the name printed on the letters for a segment, e.g. A1='École Jules-Ferry' "
        "(repeatable; without it the letter shows the code)",
    )
    parser.add_argument(
        "--closes",
        metavar="DATE",
        help="when the consultation closes, printed on each letter: ISO 8601 date and "
        "time, e.g. 2026-12-14T18:00 (read in --timezone) or 2026-12-14T17:00Z",
    )
    parser.add_argument(
        "--timezone",
        default=None,
        metavar="ZONE",
        help="IANA time zone the letters give the closing time in (default: the "
        "consultation's, from --spec; else Europe/Paris)",
    )
    parser.add_argument(
        "--spec",
        type=Path,
        metavar="FILE",
        help="the consultation's questions and rules (<id>-consultation.json, from its "
        "public board): the letters then take its time zone and its closing time unless "
        "--timezone or --closes says otherwise (with a warning), and --consultation-id "
        "must be its id",
    )
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF letters")
    parser.add_argument(
        "--force", action="store_true", help="overwrite credential files already in --out"
    )
    parser.add_argument(
        "--replace",
        metavar="PUBLIC_KEY",
        help=(
            "reissue: revoke this public key and make one new credential; the app gives "
            "it the revoked key's segment (add --segments SEG=1 to write that segment "
            "in cles-publiques.jsonl too, else it is null there; --previous finds it for "
            "you and prints the fingerprint of every key, to republish)"
        ),
    )
    parser.add_argument("--reason", help="why the replaced credential is revoked (with --replace)")
    parser.add_argument(
        "--previous",
        action="append",
        type=Path,
        default=[],
        metavar="FILE",
        help="a cles-publiques.jsonl already made for this consultation (repeatable: every "
        "earlier batch and reissue); the fingerprint printed then covers them all, and with "
        "--replace the new key takes the replaced key's segment from them",
    )


def _console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@contextlib.contextmanager
def _status(letters: int) -> Iterator[None]:
    console = _console()
    if not console.is_terminal:
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    what = "1 lettre" if letters == 1 else f"{letters} lettres"
    # About 60 ms a letter on a two-core machine (600 letters: 36 s).
    with Progress(
        SpinnerColumn(),
        TextColumn(f"Mise en page de {what} (lettres.pdf, environ {max(1, letters * 6 // 100)} s)"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        bar.add_task("pdf", total=None)
        yield


def spec_status(path: Path, spec: Any, opening: Any) -> str:
    """What the tool can vouch for in a ``--spec`` file, or ValueError (French).

    The public board's file carries the opening (``{"spec_hash", "at"}``): its hash is
    recomputed, so a file edited since says so.  The organiser's page gives a draft's
    file with ``"opening": null`` (and a file without the key is read the same way):
    before the opening, the hash is only what the opening will publish if nothing is
    changed, and what the letters rely on (closing, zone, segments) may still move."""
    from beffroi.consult.bundle import BUNDLE_FORMAT, SPEC_ANCHORED_FORMAT, frozen_spec
    from beffroi.consult.spec import SpecError, format_time, parse_time, spec_hash

    if opening is None:
        # The opening stamps the server's format before hashing, whatever the draft
        # says. The organiser's page gives the draft so stamped, which may be another
        # format than this tool's (another version of Beffroi): that stamp is kept. A
        # stamp no opening writes (formats before the spec carried one) can only be
        # hand-made: the opening would replace it, so the tool's own is used, and said.
        fmt = spec.bundle_format
        note = ""
        if fmt is None or fmt < SPEC_ANCHORED_FORMAT:
            if fmt is not None:
                note = (
                    f" (calculée avec le format de paquet {BUNDLE_FORMAT} de cet outil : le "
                    f"format {fmt} inscrit dans ce fichier n'est pas de ceux qu'inscrit une "
                    f"ouverture, {SPEC_ANCHORED_FORMAT} ou plus ; fichier fait à la main ?)"
                )
            spec = frozen_spec(spec)
        elif fmt != BUNDLE_FORMAT:
            note = (
                f" (calculée avec le format de paquet {fmt} inscrit dans ce fichier, celui "
                f"du serveur qui l'a donné ; cet outil écrit le format {BUNDLE_FORMAT})"
            )
        h = spec_hash(spec)
        return (
            f"Questions et règles de {spec.id} : brouillon, pas encore ouvert. Empreinte "
            f"que l'ouverture publiera si rien n'est modifié d'ici là : {h}{note}. Pas encore "
            "vérifiable : que ces questions et règles soient celles qui seront ouvertes "
            "(comparez cette empreinte avec celle du tableau public après l'ouverture ; "
            "si elle diffère, la clôture, le fuseau ou les segments des lettres peuvent ne "
            "plus être les bons), la date d'ouverture, et que l'organisateur importe "
            "exactement vos clés (comparez l'empreinte de la liste des clés avec celle du "
            "tableau public)."
        )
    if not isinstance(opening, dict) or set(opening) != {"spec_hash", "at"}:
        raise ValueError(
            f"--spec {path} : « opening » doit valoir null (brouillon) ou porter spec_hash "
            "et at, sans plus (fichier du tableau public)"
        )
    h = spec_hash(spec)
    if opening["spec_hash"] != h:
        raise ValueError(
            f"--spec {path} : l'empreinte inscrite à l'ouverture ({opening['spec_hash']}) "
            f"n'est pas celle de ces questions et règles ({h}) : fichier modifié depuis ?"
        )
    try:
        at = parse_time(opening["at"], "opening.at")
    except SpecError as exc:
        raise ValueError(f"--spec {path} : {exc}") from exc
    said = (
        f"Questions et règles de {spec.id} : gelées à l'ouverture du {format_time(at)}, "
        f"empreinte {h} (recalculée : celle publiée à l'ouverture)."
    )
    if datetime.now(UTC) < spec.opens:
        said += (
            f" Réponses acceptées à partir du {format_time(spec.opens)} seulement : "
            "ouverte, mais pas encore commencée."
        )
    return said


def _suggested_segments(segments: Any) -> str:
    """The ``--segments`` to type instead of ``--count``, from the electorates the spec
    declares; an undeclared one (0, spec.py) is shown as N, since 0 makes no letter."""
    suggested = ",".join(f"{s.code}={s.electorate or 'N'}" for s in segments)
    declared = [s for s in segments if s.electorate]
    if len(declared) == len(segments):
        return f"--segments {suggested} (effectifs déclarés dans la consultation)"
    why = (
        "N : nombre de lettres à imprimer pour ce segment, une par personne appelée à "
        "y répondre ; la consultation n'en déclare pas l'effectif"
    )
    if declared:
        why += " ; les autres nombres sont les effectifs qu'elle déclare"
    return f"--segments {suggested} ({why})"


def check_spec_rules(spec: Any, segments: dict[str, int] | None, *, reissue: bool = False) -> None:
    """What the letters must agree with in the spec: codes exist only for a
    consultation on codes, and only in its segments, each key in one of them when it
    has any (the import refuses the whole list otherwise, after the letters were
    printed)."""
    if spec.access == "open":
        raise ValueError(
            f"--spec : la consultation {spec.id} est ouverte à tous (access: open), sans "
            "codes personnels : aucune lettre à faire"
        )
    known = spec.segment_codes()
    if not segments:
        if known and not reissue:
            # A reissue is exempt: the app gives the new key the lost one's segment.
            raise ValueError(
                f"--count : la consultation {spec.id} répartit ses codes par segment "
                f"({', '.join(known)}) ; des clés sans segment seraient refusées à l'import, "
                "après l'impression des lettres. Indiquez plutôt le nombre de lettres de "
                f"chaque segment, par ex. {_suggested_segments(spec.segments)}"
            )
        return
    if not known:
        raise ValueError(
            f"--segments : la consultation {spec.id} n'a pas de segments (--spec) ; "
            "indiquez --count"
        )
    unknown = [code for code in segments if code not in known]
    if unknown:
        raise ValueError(
            f"--segments {unknown[0]} : ce segment n'est pas dans les questions et règles "
            f"de --spec (segments : {', '.join(known)})"
        )


def _fail(message: str) -> int:
    print(f"erreur : {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from beffroi.consult.credentials import (
        PublicCredential,
        Revocation,
        generate,
        key_list_fingerprint,
        letter_zone,
        merge_key_lists,
        parse_closing,
        reissue,
        write_csv,
        write_pdf,
        write_public_jsonl,
        write_revocations_jsonl,
    )
    from beffroi.consult.spec import CODE_RE, spec_from_dict
    from beffroi.consult.zones import DEFAULT_ZONE, zone_words

    if not CODE_RE.match(args.consultation_id):
        return _fail(f"--consultation-id {args.consultation_id!r} : identifiant invalide")
    if not args.base_url.startswith(("https://", "http://")):
        return _fail("--base-url doit commencer par https://")
    named = dict(args.label)
    unknown = sorted(set(named) - set(args.segments or {}))
    if unknown and args.replace is None:
        # A mistyped code would leave its letters showing the bare code.
        return _fail(f"--label {unknown[0]} : ce segment n'est pas dans --segments")
    closes: datetime | None = None
    spec_zone: str | None = None
    spec_closes: datetime | None = None
    spec_said = ""
    if args.spec is not None:
        try:
            raw = json.loads(args.spec.read_text("utf-8"))
            spec = spec_from_dict(raw)
        except OSError as exc:
            return _fail(f"--spec {args.spec} : illisible ({exc.strerror})")
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            return _fail(f"--spec {args.spec} : {exc}")
        if spec.id != args.consultation_id:
            return _fail(
                f"--spec {args.spec} : ce fichier est celui de la consultation {spec.id!r}, "
                f"pas de {args.consultation_id!r}"
            )
        try:
            # raw is a dict: spec_from_dict refuses anything else.
            spec_said = spec_status(args.spec, spec, raw.get("opening"))
            check_spec_rules(spec, args.segments, reissue=args.replace is not None)
        except ValueError as exc:
            return _fail(str(exc))
        spec_zone, spec_closes = spec.timezone, spec.closes
    try:
        zone = letter_zone(args.timezone or spec_zone or DEFAULT_ZONE)
        if args.closes is not None:
            closes = parse_closing(args.closes, zone)
        elif args.replace is None:
            # A reissue's letter stays undated unless asked (as before --spec).
            closes = spec_closes
    except ValueError as exc:
        return _fail(str(exc))
    if spec_said:
        print(spec_said)
    if spec_zone is not None and args.timezone is not None and args.timezone != spec_zone:
        # Printed anyway (the authority may know better), but said: a late parent would
        # read another hour or another zone in the refusal than on the letter.
        print(
            f"Attention : --timezone {args.timezone} diffère du fuseau de la consultation "
            f"({spec_zone}) : les lettres donneront l'heure en « {zone_words(zone)} », le "
            f"refus d'une réponse tardive en « {zone_words(spec_zone)} ».",
            file=sys.stderr,
        )
    if spec_closes is not None and closes is not None and closes != spec_closes:
        print(
            f"Attention : --closes {args.closes} n'est pas la clôture de la consultation "
            f"({spec_closes.astimezone(zone):%d/%m/%Y %H:%M}, {zone_words(zone)}) : les "
            "lettres donneront une autre date limite que celle que l'application applique.",
            file=sys.stderr,
        )
    if closes is not None and closes <= datetime.now(UTC):
        # A letter asking for answers by a date already gone helps no one: a typo.
        if args.closes is None:
            return _fail(f"--spec {args.spec} : la consultation est déjà close")
        return _fail(f"--closes {args.closes!r} : cette date est déjà passée")
    out: Path = args.out
    existing = [name for name in OUTPUTS if (out / name).exists()]
    if existing and not args.force:
        # Overwriting letters already printed would lose the only copy of their codes.
        return _fail(f"{out} contient déjà {', '.join(existing)} (--force pour les remplacer)")

    earlier: list[PublicCredential] = []
    if args.previous:
        try:
            earlier = merge_key_lists(
                (str(path), path.read_text("utf-8")) for path in args.previous
            )
        except OSError as exc:
            return _fail(f"--previous {exc.filename} : illisible ({exc.strerror})")
        except (ValueError, UnicodeDecodeError) as exc:
            return _fail(f"--previous {exc}")
    revocations: list[Revocation] = []
    if args.replace is not None:
        if not re.fullmatch(r"[0-9a-f]{64}", args.replace):
            return _fail(
                "--replace attend une clé publique : 64 caractères hexadécimaux en minuscules"
            )
        if not args.reason or not args.reason.strip():
            return _fail("--replace exige --reason (le motif est publié avec la révocation)")
        segs = args.segments or {}
        if args.count not in (None, 1) or sum(segs.values()) > 1 or len(segs) > 1:
            return _fail("--replace fabrique un seul code (--segments SEG=1, ou rien)")
        segment = next(iter(segs), None)
        if args.previous:
            old = next((p for p in earlier if p.public_key == args.replace), None)
            if old is None:
                return _fail(
                    "--replace : cette clé n'est dans aucune liste --previous (autre "
                    "consultation, ou liste manquante ?)"
                )
            if segs and segment != old.segment:
                return _fail(
                    f"--segments {segment} : la clé remplacée est du segment {old.segment}"
                )
            # The app gives the new key the old one's segment: the file says the same,
            # so that the fingerprint over every list is the one verify recomputes.
            segment = old.segment
        priv, pub, rev = reissue(
            args.replace, segment, args.reason.strip(), args.consultation_id, args.base_url
        )
        private, public, revocations = [priv], [pub], [rev]
    else:
        if args.count is None and not args.segments:
            return _fail("indiquez --count ou --segments")
        try:
            private, public = generate(
                args.count, args.segments, args.consultation_id, args.base_url
            )
        except ValueError as exc:
            return _fail(str(exc))

    out.mkdir(parents=True, exist_ok=True)
    if not args.no_pdf:
        # First, as the slowest step and the only one likely to fail (fonts…).  It is
        # laid out in one piece (a tagged PDF), so no bar can fill: a live status with
        # the time spent, where 600 letters took 36 s without a word.
        with _status(len(private)):
            # Undated letters are made exactly as before the date existed.
            if closes is None:
                write_pdf(private, out / "lettres.pdf", args.title, named)
            else:
                write_pdf(private, out / "lettres.pdf", args.title, named, closes, zone)
    write_csv(private, out / "codes.csv", closes, zone)
    write_public_jsonl(public, out / "cles-publiques.jsonl")
    if revocations:
        write_revocations_jsonl(revocations, out / "revocation.jsonl")
    written = f"{len(private)} code écrit" if len(private) == 1 else f"{len(private)} codes écrits"
    secret = "codes.csv est PRIVÉ" if args.no_pdf else "lettres.pdf et codes.csv sont PRIVÉS"
    print(
        f"{written} dans {out}/ : {secret} (lisible par vous seul) ; ne transmettez à "
        "l'organisateur que cles-publiques.jsonl"
        + (" et revocation.jsonl." if revocations else ".")
    )
    every = [*earlier, *public]
    if revocations and not earlier:
        # A reissue alone cannot say what the whole list now is: without the
        # republished figure, a key the organiser made itself would pass for this one.
        print(
            "Attention : sans --previous, aucune empreinte n'est donnée pour ce code réémis. "
            "Calculez celle de toutes les listes (beffroi credentials fingerprint "
            "cles-publiques.jsonl…, premières listes et réémissions) et republiez-la : "
            "sans elle, un code réémis ne se distingue pas d'une clé ajoutée par "
            "l'organisateur.",
            file=sys.stderr,
        )
    else:
        # Published by the authority itself (not through the organiser), it lets
        # anyone check that the organiser has exactly these keys, reissues included.
        fingerprint = key_list_fingerprint((p.public_key, p.segment) for p in every)
        if earlier:
            print(
                f"Empreinte de toutes les clés de la consultation ({len(every)}, listes "
                "--previous comprises ; elle remplace celle publiée avant, à publier "
                f"vous-même) : {fingerprint}"
            )
        else:
            print(f"Empreinte de la liste des clés (à publier vous-même) : {fingerprint}")
    return 0
