"""Each main courante line's content is tied to the journal: every action that creates or
changes a line journals a keyed digest of it, and ``courante_verify.check`` (`beffroi
watch courante-verify`) names the lines rewritten in the database behind Beffroi's back
(docs/decisions/courante-digest.md). Also: the "from" of a status or verification change
is the row's at write time; a closed activation's source is not switched back on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

pytestmark = pytest.mark.usesdb


def _room(org, members, name="Crue du Lay"):
    from beffroi.watch import actions
    from watch_rooms import add_cards

    activation = actions.create_activation(
        org, name=name, event_type="inondation", area=["85"], actor=members["coordinator"]
    )
    cards = add_cards(
        activation,
        ["Digue rompue à Luçon, maisons inondées", "Pont fermé à Mareuil"],
        lang="fr",
        commune_code="85128",
        commune_name="Luçon",
        url="https://example.org/@a/1",
    )
    return activation, cards


def _ordinary_day(org, members):
    """Every door that writes a line, as a team uses them."""
    from beffroi.watch import actions

    activation, (card, other) = _room(org, members)
    volunteer, coordinator = members["volunteer"], members["coordinator"]
    escalated = actions.escalate(
        card, actor=volunteer, category="personnes", decision="to_verify", text=""
    )
    plain = actions.escalate(other, actor=volunteer, category="routes", for_partners=False)
    typed = actions.add_log_entry(
        activation,
        actor=volunteer,
        text="Appel de la mairie : gymnase ouvert",
        channel="telephone",
        category="officiel",
        commune_code="85128",
        at=timezone.now() - timedelta(hours=2),
        source_url="https://example.org/mairie",
    )
    actions.update_log_status(escalated, "en-cours", actor=volunteer, note="appel SDIS")
    actions.update_log_status(escalated, "transmis", actor=coordinator)
    actions.requalify_entry(escalated, "verified", actor=coordinator)  # through its card
    actions.requalify_entry(typed, "verified", actor=coordinator)  # a manual line
    actions.set_entry_sharing(typed, False, actor=coordinator)
    actions.set_entry_sharing(plain, True, actor=coordinator)
    actions.set_entry_sharing(plain, True, actor=coordinator)  # no change, not journaled
    return activation, {"escalated": escalated, "plain": plain, "typed": typed}


def _raw_update(entry, **values):
    from beffroi.watch.models import LogEntry

    table = connection.ops.quote_name(LogEntry._meta.db_table)
    sets = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in values)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} WHERE id = %s",
            [*values.values(), entry.pk],
        )


def _last_entry_for(entry):
    from beffroi.core.models import JournalEntry

    return [
        e
        for e in JournalEntry.objects.filter(data__has_key="content").order_by("seq")
        if str(entry.pk) in e.data["content"]["lines"]
    ][-1]


def test_an_ordinary_sequence_of_actions_verifies(org, members):
    from beffroi.core import journal
    from beffroi.core.models import JournalEntry
    from beffroi.watch import courante_verify

    activation, lines = _ordinary_day(org, members)
    report = courante_verify.check()
    assert report.ok, [f.message() for f in report.findings]
    assert (report.checked, report.intact, report.uncovered, report.other_key) == (3, 3, 0, 0)
    assert journal.verify() is None
    # Every entry that created or changed a line carries the digest of its lines, under
    # the deployment's key, with the numbers (the journal already named them).
    journaled = {
        e.action
        for e in JournalEntry.objects.filter(data__has_key="content")
        if e.data["content"]["activation"] == activation.pk
    }
    assert journaled == {
        "watch.card.escalate", "watch.log.add", "watch.log.status", "watch.card.decide",
        "watch.log.verify", "watch.log.share",
    }  # fmt: skip
    content = _last_entry_for(lines["typed"]).data["content"]
    assert content["key"] == courante_verify.courante_digest.key_id(courante_verify.content_key())
    assert content["lines"][str(lines["typed"].pk)]["number"] == lines["typed"].number
    # The decision that requalified the escalated line carries that line's new digest.
    assert _last_entry_for(lines["escalated"]).action == "watch.card.decide"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("text", "Digue rompue à Luçon, 40 maisons inondées"),
        ("at", "2026-11-20 08:00:00"),
        ("commune_code", "85194"),
        ("source_url", "https://example.org/faux"),
        ("for_partners", True),
        ("verification", "false"),
        ("status", "clos"),
        ("withdrawn_text", "texte glissé"),
    ],
)
def test_a_row_rewritten_in_sql_is_named_with_the_time_of_its_last_journal_entry(
    org, members, column, value
):
    from beffroi.watch import courante_verify

    _activation, lines = _ordinary_day(org, members)
    target = lines["typed"]  # withdrawn from partners, verified, opened
    _raw_update(target, **{column: value})

    report = courante_verify.check()
    assert not report.ok
    assert (report.checked, report.intact) == (3, 2)
    [finding] = report.findings
    since = timezone.localtime(_last_entry_for(target).at).strftime("%d/%m/%Y %H:%M")
    assert finding.message() == (
        f"ligne {target.number} de l'activation « Crue du Lay » : contenu modifié hors de "
        f"Beffroi depuis le {since}"
    )


def test_lines_from_before_the_digest_are_counted_not_called_forged(org, members, night):
    from beffroi.watch import courante_verify

    _ordinary_day(org, members)
    report = courante_verify.check()
    assert report.ok
    assert (report.checked, report.intact, report.uncovered) == (253, 3, 250)
    assert courante_verify.check([night.pk]).uncovered == 250


def test_a_line_deleted_behind_beffroi_is_named(org, members):
    from beffroi.watch import courante_verify
    from beffroi.watch.models import LogEntry

    _activation, lines = _ordinary_day(org, members)
    table = connection.ops.quote_name(LogEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [lines["plain"].pk])
    [finding] = courante_verify.check().findings
    assert finding.missing and finding.number == lines["plain"].number
    assert finding.message().startswith(
        f"ligne {lines['plain'].number} de l'activation « Crue du Lay » : supprimée hors de "
        "Beffroi (dernière entrée du journal le "
    )


def test_the_check_keeps_to_the_activations_asked_for(org, members):
    from beffroi.watch import actions, courante_verify

    _activation, lines = _ordinary_day(org, members)
    elsewhere = actions.create_activation(
        org, name="Tempête", event_type="tempete", actor=members["coordinator"]
    )
    other = actions.add_log_entry(
        elsewhere, actor=members["volunteer"], text="Toit arraché", channel="observation",
        category="degats",
    )  # fmt: skip
    _raw_update(lines["typed"], text="faux")
    assert courante_verify.check([elsewhere.pk]).ok
    assert courante_verify.check([elsewhere.pk]).checked == 1
    assert not courante_verify.check([lines["typed"].activation_id]).ok
    _raw_update(other, text="faux aussi")
    assert [f.activation_name for f in courante_verify.check().findings] == [
        "Crue du Lay",
        "Tempête",
    ]


def test_digests_made_under_another_secret_are_reported_not_trusted(org, members, settings):
    """A key id the server does not hold is what an entry appended without the secret
    would name: the line cannot be checked, so it is reported, never passed."""
    from beffroi.watch import courante_verify

    _ordinary_day(org, members)
    settings.BEFFROI_PSEUDONYM_KEY = "a server restored with another secret"
    report = courante_verify.check()
    assert (report.other_key, report.intact) == (3, 0)
    assert [f.kind for f in report.findings] == [courante_verify.FOREIGN] * 3
    assert "autre clé ou dans un format inconnu" in report.findings[0].message()


def test_a_forger_who_rewrites_the_row_cannot_journal_a_matching_digest(org, members):
    """The digest is keyed: whoever can write the database but not read the server's
    secret cannot compute the digest of the text they put in (an unkeyed hash they could,
    and append it through a journal entry they forge, chain recomputed)."""
    from beffroi.watch import courante_digest, courante_verify

    _activation, lines = _ordinary_day(org, members)
    target = lines["typed"]
    _raw_update(target, text="faux")
    target.refresh_from_db()
    place = {"seq": _last_entry_for(target).seq, "line_id": target.pk}
    guessed = courante_digest.digest(b"", courante_verify.line_fields(target), **place)
    assert not courante_digest.matches(
        courante_verify.content_key(), courante_verify.line_fields(target), guessed, **place
    )


def test_the_status_from_is_the_rows_at_write_time(org, members):
    """Two volunteers change one line: each page loaded it « ouvert ». The second journals
    the first one's status as its "from", read on the locked row, not the page's copy."""
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    _activation, lines = _ordinary_day(org, members)
    first_copy = LogEntry.objects.get(pk=lines["plain"].pk)
    second_copy = LogEntry.objects.get(pk=lines["plain"].pk)
    assert first_copy.status == second_copy.status == "ouvert"
    actions.update_log_status(first_copy, "en-cours", actor=members["volunteer"])
    actions.update_log_status(second_copy, "clos", actor=members["coordinator"])
    changes = JournalEntry.objects.filter(
        action="watch.log.status", subject=f"log:{lines['plain'].pk}"
    ).order_by("seq")
    froms = [(e.data["from"], e.data["to"]) for e in changes]
    assert froms == [("ouvert", "en-cours"), ("en-cours", "clos")]
    assert LogEntry.objects.get(pk=lines["plain"].pk).status == "clos"


def test_the_verification_from_is_the_rows_at_write_time(org, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import LogEntry

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    line = actions.add_log_entry(
        activation, actor=members["volunteer"], text="Appel", channel="telephone",
        category="autre",
    )  # fmt: skip
    stale = LogEntry.objects.get(pk=line.pk)
    actions.requalify_entry(line, "rumour", actor=members["volunteer"])
    actions.requalify_entry(stale, "false", actor=members["coordinator"])
    froms = [
        (e.data["from"], e.data["to"])
        for e in JournalEntry.objects.filter(action="watch.log.verify").order_by("seq")
    ]
    assert froms == [("", "rumour"), ("rumour", "false")]


def test_a_closed_activations_source_is_not_switched_back_on(org, members):
    from beffroi.core.models import JournalEntry
    from beffroi.watch import actions
    from beffroi.watch.models import Source

    activation = actions.create_activation(
        org, name="Crue", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    actions.close_activation(activation, actor=members["coordinator"])
    source = Source.objects.select_related("activation").get(pk=source.pk)
    # Pausing stays possible (a closed activation's source the worker no longer runs).
    actions.set_source_enabled(source, False, actor=members["coordinator"])
    with pytest.raises(actions.ActionError, match="Activation close : aucune source ne démarre"):
        actions.set_source_enabled(source, True, actor=members["coordinator"])
    source.refresh_from_db()
    assert source.enabled is False
    assert not JournalEntry.objects.filter(action="watch.source.enable").exists()


def test_the_handle_repair_keeps_verified_lines_verified_and_launders_no_forgery(org, members):
    """``scrub_handles`` rewrites lines that quote a post with a handle, in batches of its
    own: its journal entry carries the new digests of the lines that verified before it.
    A line already rewritten behind Beffroi's back is left reported."""
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import Card, LogEntry, Post, Source

    activation = actions.create_activation(
        org, name="Haiyan", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    old = "RT@xtianvincent: Stranded in flood"
    card = Card.objects.create(
        activation=activation, group_id="g1", source=source, source_kind="file",
        external_id="1", text=old, posted_at=timezone.now(),
    )  # fmt: skip
    Post.objects.create(
        activation=activation, source=source, external_id="1", text=old,
        created_at=timezone.now(), card=card, processed=True,
    )  # fmt: skip
    # Lines written before the rule (straight to the table), then touched through a door:
    # from then on the journal holds their digests.
    repaired, forged = (
        LogEntry.objects.create(
            activation=activation, number=n, channel="reseaux-sociaux", category="autre",
            text=old, card=card,
        )
        for n in (1, 2)
    )  # fmt: skip
    for line in (repaired, forged):
        actions.set_entry_sharing(line, False, actor=members["coordinator"])
    _raw_update(forged, status="clos")
    assert [f.number for f in courante_verify.check().findings] == [2]

    counts = actions.scrub_handles(activation)
    assert counts.as_journal()["log_entries"] == 2
    assert "xtianvincent" not in LogEntry.objects.get(pk=repaired.pk).text
    report = courante_verify.check()
    assert [f.number for f in report.findings] == [2]
    assert report.intact == 1


# -- what a forger with write access to the database (but not the secret) can try ---------


def _append_content(org, target, content):
    """An entry appended the way anyone who can write the database can: the journal's
    triggers forbid UPDATE and DELETE, not INSERT, and its chain needs no secret."""
    from beffroi.core import journal

    journal.append(
        "watch.log.status",
        organisation=org,
        subject=f"log:{target.pk}",
        data={"number": target.number, "from": "ouvert", "to": "ouvert", "content": content},
    )


def _rechain(mutate):
    """Rewrite journal entries in place and recompute the whole chain and its head (the
    triggers dropped): ``journal.verify`` cannot tell."""
    from beffroi.core import chain
    from beffroi.core.models import JournalEntry, JournalHead

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE core_journalentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS core_journalentry_no_update")
    prev, last = chain.GENESIS, 0
    for e in JournalEntry.objects.order_by("seq"):
        mutate(e)
        fields = {
            "seq": e.seq, "at": chain.timestamp(e.at), "actor": e.actor_id,
            "actor_label": e.actor_label, "organisation": e.organisation_id,
            "action": e.action, "subject": e.subject, "reason": e.reason, "rule": e.rule,
            "data": e.data,
        }  # fmt: skip
        digest = chain.entry_hash(fields, prev)
        JournalEntry.objects.filter(pk=e.pk).update(data=e.data, prev_hash=prev, hash=digest)
        prev, last = digest, e.seq
    JournalHead.objects.filter(pk=1).update(seq=last, hash=prev)


def test_a_line_inserted_into_the_table_is_not_passed_as_uncovered(org, members):
    """Numbers are handed out in order: a line with no digest, numbered above a line
    created with its digest, was not written before the digest existed."""
    from beffroi.core import journal
    from beffroi.watch import courante_verify
    from beffroi.watch.models import LogEntry

    activation, _lines = _ordinary_day(org, members)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    LogEntry.objects.bulk_create([
        LogEntry(
            activation=activation, number=4, channel="telephone", category="officiel",
            text="Préfecture : évacuation de Luçon non nécessaire", at=an_hour_ago,
            created_at=an_hour_ago,
        )
    ])  # fmt: skip
    assert journal.verify() is None
    report = courante_verify.check()
    [finding] = report.findings
    assert (finding.number, finding.kind) == (4, courante_verify.UNJOURNALED)
    assert report.uncovered == 0
    assert finding.message() == (
        "ligne 4 de l'activation « Crue du Lay » : sans empreinte au journal alors qu'elle "
        "est postérieure à l'empreinte du contenu (ajoutée ou retirée du journal hors de "
        "Beffroi)"
    )


def test_every_line_of_an_activation_opened_since_the_digest_needs_one(org, members):
    """An activation opened after the first digest has only digested lines: one without,
    whatever its number, was put there behind Beffroi's back."""
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import LogEntry

    _ordinary_day(org, members)
    later = actions.create_activation(
        org, name="Tempête", event_type="tempete", actor=members["coordinator"]
    )
    LogEntry.objects.create(
        activation=later, number=1, channel="telephone", category="routes", text="inventée"
    )
    report = courante_verify.check([later.pk])
    assert [(f.activation_name, f.number, f.kind) for f in report.findings] == [
        ("Tempête", 1, courante_verify.UNJOURNALED)
    ]


def test_an_appended_entry_naming_another_key_is_a_finding(org, members):
    from beffroi.core import journal
    from beffroi.watch import courante_verify

    activation, lines = _ordinary_day(org, members)
    target = lines["typed"]
    _raw_update(target, text="Faux : la digue tient, rien à signaler")
    content = {
        "v": 2, "key": "000000000000", "activation": activation.pk,
        "lines": {str(target.pk): {"number": target.number, "digest": "0" * 64}},
    }  # fmt: skip
    _append_content(org, target, content)
    assert journal.verify() is None
    report = courante_verify.check()
    assert [(f.number, f.kind) for f in report.findings] == [
        (target.number, courante_verify.FOREIGN)
    ]


def test_a_digest_replayed_in_an_appended_entry_does_not_match(org, members):
    """The line withdrawn from the partners is shared again in SQL, and the digest the
    journal held while it was shared is copied into a new entry: bound to the entry it
    was written in, it no longer matches."""
    from beffroi.core import journal
    from beffroi.core.models import JournalEntry
    from beffroi.watch import courante_verify

    _activation, lines = _ordinary_day(org, members)
    target = lines["typed"]  # shared at creation, withdrawn by set_entry_sharing(False)
    entries = [
        e
        for e in JournalEntry.objects.filter(data__has_key="content").order_by("seq")
        if str(target.pk) in e.data["content"]["lines"]
    ]
    shared = [e for e in entries if e.action != "watch.log.share"][-1]
    _raw_update(target, for_partners=True)
    _append_content(org, target, shared.data["content"])
    assert journal.verify() is None
    report = courante_verify.check()
    assert [(f.number, f.kind) for f in report.findings] == [
        (target.number, courante_verify.CHANGED)
    ]


@pytest.mark.parametrize("how", ["key", "version", "strip", "strip_last"])
def test_rewriting_the_journal_and_its_chain_does_not_hide_a_forgery(org, members, how):
    """The journal's entries rewritten, the chain recomputed (triggers dropped): a digest
    relabelled with another key or version, or taken out of every entry, or out of the
    line's last entry only (the line rolled back to the state the one before vouches
    for), still leaves the line named."""
    from beffroi.core import journal
    from beffroi.core.models import JournalEntry
    from beffroi.watch import courante_verify

    _activation, lines = _ordinary_day(org, members)
    target = lines["typed"]
    pk = str(target.pk)
    if how == "strip_last":
        # Its last change withdrew it from the partners: put it back, and strip that
        # entry's digest, so that the previous one (while shared) is the latest.
        _raw_update(target, for_partners=True)
        last = _last_entry_for(target).seq
    else:
        _raw_update(target, text="Faux : la digue tient, rien à signaler")

    def mutate(e):
        content = e.data.get("content")
        if not content or pk not in content["lines"]:
            return
        if how == "key":
            content["key"] = "000000000000"
        elif how == "version":
            content["v"] = 1
        elif how == "strip" or e.seq == last:
            del content["lines"][pk]
            if not content["lines"]:
                del e.data["content"]

    _rechain(mutate)
    assert journal.verify() is None
    if how == "strip":
        assert not [
            e
            for e in JournalEntry.objects.all()
            if pk in e.data.get("content", {}).get("lines", {})
        ]
    report = courante_verify.check()
    expected = courante_verify.FOREIGN if how in ("key", "version") else courante_verify.UNJOURNALED
    assert [(f.number, f.kind) for f in report.findings] == [(target.number, expected)]


def test_a_digest_taken_out_of_an_escalation_leaves_its_line_named(org, members):
    """An activation opened before the digest began (elsewhere); its first line, escalated
    from a card since and never touched after. Its digest taken out of the journal (chain
    recomputed), it is numbered below the activation's first digested line and would pass
    for a line older than the digest, but for the escalation entry that created it."""
    from beffroi.core import journal
    from beffroi.watch import actions, courante_verify

    activation, (card, _other) = _room(org, members)
    elsewhere = actions.create_activation(
        org, name="Tempête", event_type="tempete", actor=members["coordinator"]
    )
    line = {"actor": members["volunteer"], "channel": "telephone", "category": "officiel"}
    actions.add_log_entry(elsewhere, text="Premier appel", **line)  # the first digest
    first = actions.escalate(card, actor=members["volunteer"], category="routes")
    actions.add_log_entry(activation, text="Appel de la mairie", **line)
    _raw_update(first, text="Faux : rien à signaler")

    def mutate(e):
        content = e.data.get("content")
        if content and str(first.pk) in content["lines"]:
            del content["lines"][str(first.pk)]
            if not content["lines"]:
                del e.data["content"]

    _rechain(mutate)
    assert journal.verify() is None
    report = courante_verify.check()
    assert [(f.number, f.kind) for f in report.findings] == [
        (first.number, courante_verify.UNJOURNALED)
    ]


def test_the_handle_repair_does_not_launder_a_line_forged_while_it_runs(org, members):
    """A line that verified before the repair and is rewritten behind Beffroi's back
    while the repair runs: the repair journals the digests of the lines it rewrote only,
    so that line stays reported."""
    from beffroi.watch import actions, courante_verify
    from beffroi.watch.models import Card, LogEntry, Post, Source

    activation = actions.create_activation(
        org, name="Haiyan", event_type="inondation", actor=members["coordinator"]
    )
    source = Source.objects.create(activation=activation, kind="file", name="f", config={})
    old = "RT@xtianvincent: Stranded in flood"
    card = Card.objects.create(
        activation=activation, group_id="g1", source=source, source_kind="file",
        external_id="1", text=old, posted_at=timezone.now(),
    )  # fmt: skip
    Post.objects.create(
        activation=activation, source=source, external_id="1", text=old,
        created_at=timezone.now(), card=card, processed=True,
    )  # fmt: skip
    repaired, forged = (
        LogEntry.objects.create(
            activation=activation, number=n, channel="reseaux-sociaux", category="autre",
            text=old, card=card,
        )
        for n in (1, 2)
    )  # fmt: skip
    for line in (repaired, forged):
        actions.set_entry_sharing(line, False, actor=members["coordinator"])
    assert courante_verify.check().ok

    def forge_once(kind, _n):
        # After the repair's batch of cards (and their lines) is committed.
        if kind == "cards":
            _raw_update(forged, status="clos")

    actions.scrub_handles(activation, progress=forge_once)
    assert "xtianvincent" not in LogEntry.objects.get(pk=repaired.pk).text
    report = courante_verify.check()
    assert [(f.number, f.kind) for f in report.findings] == [(2, courante_verify.CHANGED)]
    assert report.intact == 1
