"""The audit report: one self-contained French HTML page (inline SVG charts), and its PDF.

Nothing is fetched from the network: styles are inline, charts are SVG drawn by
matplotlib, so the file works offline and WeasyPrint renders the same page to PDF.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import pathlib
import re
from typing import TYPE_CHECKING, Any

from beffroi.integrity.detectors import DEFAULT_ANSWERS, DETECTORS, THRESHOLD

if TYPE_CHECKING:
    from beffroi.integrity.audit import AuditResult

_CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;max-width:60rem;margin:1.5rem auto;
 padding:0 1rem;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2rem;
 border-bottom:2px solid #2b4c7e;padding-bottom:.2rem}h3{font-size:1.05rem}
.verdict{background:#fff4e5;border-left:6px solid #d9822b;padding:.8rem 1rem;font-size:1.05rem}
.ok{background:#eef6ee;border-left-color:#3d8b40}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f6}td.n{text-align:right;font-variant-numeric:tabular-nums}
.small{font-size:.85rem;color:#444}.flag{color:#a12020;font-weight:bold}
.chart svg{max-width:100%;height:auto}ul.ev li{margin-bottom:.3rem}
@media print{body{max-width:none}h2{page-break-after:avoid}}
"""


def _e(x: Any) -> str:
    return html.escape(str(x))


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %".replace(".", ",")


def _ans(code: str) -> str:
    return DEFAULT_ANSWERS.get(code, code)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    # The RDF metadata block only names its vocabularies; drop it to keep pages small.
    return re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Text stays text (smaller files, selectable in the PDF); DejaVu ships with matplotlib
    # and the usual systems, and a missing font only changes the look.
    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "font.family": "DejaVu Sans"})
    return plt


def _arrivals_chart(r: AuditResult) -> str:
    tl = r.timeline
    if not tl or not tl.get("arrivals"):
        return ""
    plt = _plt()
    import numpy as np

    start = dt.datetime.strptime(tl["start"], "%Y-%m-%d %H:%M:%S")
    step = dt.timedelta(seconds=tl["bin_seconds"])
    arr = np.asarray(tl["arrivals"])
    flag = np.asarray(tl["flagged"])
    x = [start + i * step for i in range(len(arr))]
    width = tl["bin_seconds"] / 86400
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.bar(
        x, arr - flag, width=width, color="#7a9cc6", label="réponses non signalées", align="edge"
    )
    ax.bar(
        x,
        flag,
        width=width,
        bottom=arr - flag,
        color="#c0392b",
        label="réponses signalées",
        align="edge",
    )
    unit = "heure" if tl["bin_seconds"] == 3600 else "jour"
    ax.set_ylabel(f"réponses par {unit}")
    ax.legend(loc="upper right", frameon=False)
    fig.autofmt_xdate()
    return _svg(fig)


def _shares_chart(r: AuditResult) -> str:
    tl = r.timeline
    if not tl or not tl.get("shares_by_day"):
        return ""
    plt = _plt()
    start = dt.datetime.strptime(tl["day_start"], "%Y-%m-%d %H:%M:%S")
    series = tl["shares_by_day"]
    fig, axes = plt.subplots(
        len(series), 1, figsize=(9, 1.9 * len(series)), sharex=True, squeeze=False
    )
    for ax, s in zip(axes[:, 0], series, strict=True):
        x = [start + dt.timedelta(days=i) for i in range(len(s["brut"]))]
        for key, color, label in (
            ("brut", "#c0392b", "brut"),
            ("beffroi", "#2b4c7e", "filtre Beffroi"),
        ):
            y = [float("nan") if v is None else 100 * v for v in s[key]]
            ax.plot(x, y, marker="o", ms=3, color=color, label=label)
        ax.set_ylim(0, 100)
        ax.set_ylabel("%")
        ax.set_title(
            f"{s['label']} : part de « {_ans(s['answer'])} » par jour", fontsize=9, loc="left"
        )
    axes[0, 0].legend(loc="upper right", frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _svg(fig)


def _scenario_chart(r: AuditResult) -> str:
    main = [s for s in r.scenarios if not s["scenario"].startswith("sans_")]
    if not main or not main[0]["questions"]:
        return ""
    plt = _plt()
    import numpy as np

    qs = main[0]["questions"]
    fig, ax = plt.subplots(figsize=(9, 3))
    width = 0.8 / len(main)
    colors = ["#c0392b", "#d9822b", "#2b4c7e", "#3d8b40"]
    for k, s in enumerate(main):
        lead = [q["shares"].get(_lead(r, q["question"])) or 0 for q in s["questions"]]
        xs = np.arange(len(qs)) + k * width
        ax.bar(xs, [100 * v for v in lead], width=width, label=s["label"], color=colors[k % 4])
    ax.axhline(50, color="#555", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(qs)) + 0.4 - width / 2)
    ax.set_xticklabels([f"{q['label']}\n« {_ans(_lead(r, q['question']))} »" for q in qs])
    ax.set_ylabel("%")
    ax.set_ylim(0, 100)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=2, frameon=False, fontsize=8)
    return _svg(fig)


def _lead(r: AuditResult, question: str) -> str:
    for q in r.robustness.get("questions", {}).get("brut", []):
        if q["question"] == question:
            return str(q["majority"])
    return ""


def _robust_chart(r: AuditResult) -> str:
    rows = r.robustness.get("questions", {}).get("beffroi", [])
    if not rows:
        return ""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 0.7 + 0.6 * len(rows)))
    for i, q in enumerate(rows):
        for j, rg in enumerate(q["ranges"]):
            ax.plot(
                [100 * rg["min"], 100 * rg["max"]],
                [i + 0.12 * j, i + 0.12 * j],
                lw=3,
                color=plt.cm.viridis(j / max(len(q["ranges"]), 1)),
                label=f"jusqu'à {rg['k']} faux formulaires" if i == 0 else None,
            )
        ax.plot([100 * q["share"]], [i], "k|", ms=14)
    ax.axvline(50, color="#c0392b", lw=1, ls="--")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{q['label']} « {_ans(q['majority'])} »" for q in rows])
    ax.set_xlabel("part de la réponse majoritaire (%) après filtre Beffroi")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=2, frameon=False, fontsize=8)
    return _svg(fig)


def _scenario_table(r: AuditResult) -> str:
    out = []
    main = [s for s in r.scenarios if not s["scenario"].startswith("sans_")]
    alt = [s for s in r.scenarios if s["scenario"].startswith("sans_")]
    if not main:
        return ""
    qs = main[0]["questions"]
    head = "".join(
        f"<th>{_e(q['label'])}<br>"
        f"<span class=small>« {_e(_ans(_lead(r, q['question'])))} »</span></th>"
        for q in qs
    )
    out.append(f"<table><tr><th>Scénario</th><th>Formulaires</th>{head}</tr>")
    for s in main + alt:
        cells = "".join(
            f"<td class=n>{_pct(q['shares'].get(_lead(r, q['question'])))}</td>"
            for q in s["questions"]
        )
        out.append(f"<tr><td>{_e(s['label'])}</td><td class=n>{s['forms']}</td>{cells}</tr>")
    out.append("</table>")
    ip = next((s for s in r.scenarios if s["scenario"] == "une_par_ip"), None)
    if ip:
        d = ip["details"]
        out.append(
            "<p>Le filtre « une réponse par adresse IP » écarte "
            f"<b>{d['dropped']}</b> formulaires : {d['dropped_small_shared_addresses']} "
            "venant d'adresses "
            f"partagées par 2 ou 3 formulaires (souvent un foyer : deux parents sur la même box), "
            f"{d['dropped_large_shared_addresses']} d'adresses partagées par 4 formulaires ou plus "
            f"(opérateurs mobiles, établissements). Parmi eux, {d['dropped_not_flagged']} "
            "ne présentent aucune anomalie."
            + (
                f" Il conserve en revanche {d['kept_flagged']} réponses signalées par Beffroi "
                "(par exemple des adresses qui tournent, comme celles d'un VPN)."
                if d["kept_flagged"]
                else ""
            )
            + "</p>"
        )
    return "".join(out)


def _segments_table(r: AuditResult) -> str:
    scen = {s["scenario"]: s for s in r.scenarios}
    if (
        "brut" not in scen
        or not scen["brut"]["questions"]
        or not scen["brut"]["questions"][0]["segments"]
    ):
        return ""
    out = [
        "<h3>Par segment</h3><table><tr><th>Question</th><th>Segment</th>"
        "<th>Brut</th><th>Filtre Beffroi</th></tr>"
    ]
    for qb, qf in zip(scen["brut"]["questions"], scen["beffroi"]["questions"], strict=True):
        lead = _lead(r, qb["question"])
        for sb, sf in zip(qb["segments"], qf["segments"], strict=True):
            out.append(
                f"<tr><td>{_e(qb['label'])} « {_e(_ans(lead))} »</td><td>{_e(sb['label'])}</td>"
                f"<td class=n>{_pct(sb['shares'].get(lead))} ({sb['answers']})</td>"
                f"<td class=n>{_pct(sf['shares'].get(lead))} ({sf['answers']})</td></tr>"
            )
        for rb_, rf in zip(qb["rows"], qf["rows"], strict=True):
            out.append(
                f"<tr><td>{_e(qb['label'])} « {_e(_ans(lead))} »</td>"
                f"<td>ligne {_e(rb_['row'])}</td>"
                f"<td class=n>{_pct(rb_['shares'].get(lead))} ({rb_['answers']})</td>"
                f"<td class=n>{_pct(rf['shares'].get(lead))} ({rf['answers']})</td></tr>"
            )
    out.append("</table>")
    return "".join(out)


def _clusters(r: AuditResult) -> str:
    groups = [c for c in r.clusters if c["flagged"]]
    if not groups:
        return (
            "<p>Aucun groupe suspect. Les rafales d'arrivées examinées "
            f"({r.summary['bursts_examined']}) ressemblent à des réponses ordinaires "
            "(message dans un groupe de parents, relance par courriel…).</p>"
        )
    out = []
    for c in groups:
        out.append(
            f"<h3>Groupe {c['cluster']} — {c['flagged']} réponses signalées "
            f"(du {_e(c['start'])} au {_e(c['end'])}, heure du fichier)</h3><ul class=ev>"
            f"<li>{_e(c['evidence'])}</li>"
        )
        for chk in c["checks"]:
            if chk["significant"]:
                out.append(
                    f"<li><b>{_e(DETECTORS.get(chk['check'], chk['check']))}</b> : "
                    f"{_e(chk['evidence'])}</li>"
                )
        out.append(
            f"</ul><p class=small>Exemples d'identifiants : {_e(', '.join(c['ids_sample']))}</p>"
        )
    return "".join(out)


def _robustness(r: AuditResult) -> str:
    out = ["<ul class=ev>"]
    for q in r.robustness.get("questions", {}).get("beffroi", []):
        cls = " class=flag" if q["fragile"] else ""
        out.append(f"<li{cls}>{_e(q['statement'])}</li>")
    out.append("</ul>")
    ks = r.robustness.get("questions", {}).get("beffroi", [])
    if ks:
        out.append(
            "<table><tr><th>Question</th>"
            + "".join(f"<th>si {rg['k']} formulaires sont faux</th>" for rg in ks[0]["ranges"])
            + "</tr>"
        )
        for q in ks:
            out.append(
                f"<tr><td>{_e(q['label'])} « {_e(_ans(q['majority']))} »</td>"
                + "".join(
                    f"<td class=n>{_pct(rg['min'])} à {_pct(rg['max'])}</td>" for rg in q["ranges"]
                )
                + "</tr>"
            )
        out.append("</table>")
    part = r.robustness.get("participation", {})
    if part.get("segments"):
        out.append(
            "<h3>Participation</h3><table><tr><th>Segment</th><th>Électorat déclaré</th>"
            "<th>Formulaires</th><th>Taux brut</th><th>Taux après filtre</th></tr>"
        )
        for s in part["segments"]:
            cls = " class=flag" if s["impossible"] else ""
            out.append(
                f"<tr{cls}><td>{_e(s['segment'])}</td><td class=n>{s['electorate']}</td>"
                f"<td class=n>{s['forms']}</td><td class=n>{_pct(s['rate'])}</td>"
                f"<td class=n>{_pct(s['rate_filtered'])}</td></tr>"
            )
        out.append("</table>")
    for st in part.get("statements", []):
        out.append(f"<p class=flag>{_e(st)}</p>")
    return "".join(out)


def render_html(result: AuditResult) -> str:
    r = result
    s = r.summary
    ok = " ok" if not s["flagged"] and not s["fragile_questions"] else ""
    skipped = "".join(
        f"<li><b>{_e(c['check'])}</b> : {_e(c['reason'])}</li>" for c in r.checks_skipped
    )
    disabled = (
        "<p>Détecteurs désactivés pour ce rapport : "
        + ", ".join(_e(DETECTORS[d]) for d in r.disabled)
        + ".</p>"
        if r.disabled
        else ""
    )
    parts = [
        "<!DOCTYPE html><html lang=fr><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width, initial-scale=1'>",
        f"<title>Audit d'enquête — {_e(pathlib.Path(r.source).name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Audit d'enquête</h1><p class=small>Fichier : {_e(r.source)} — "
        f"{s['responses']} réponses ({s['complete']} complètes, {s['incomplete']} "
        "incomplètes). Rapport produit par Beffroi.</p>",
        f"<p class='verdict{ok}'>{_e(s['verdict'])}</p>",
        "<h2>Comment lire ce rapport</h2><p>Chaque réponse reçoit un score entre 0 et 1. "
        f"Elle est <b>signalée</b> à partir de {str(THRESHOLD).replace('.', ',')}, "
        "c'est-à-dire quand elle "
        "appartient à une rafale d'arrivées qui présente au moins deux anomalies indépendantes "
        "(régularité mécanique, remplissage trop rapide, réseaux inhabituels, réponses très "
        "différentes du reste, lignes d'un même formulaire incohérentes) et qu'elle partage "
        "elle-même ces anomalies, ou quand une preuve individuelle forte existe (jeton réutilisé). "
        "Rien n'est supprimé : chaque scénario ci-dessous montre le résultat avec et sans chaque "
        "règle, pour que chacun juge.</p>",
        disabled,
        "<h2>Arrivées dans le temps</h2><div class=chart>",
        _arrivals_chart(r),
        "</div><h2>Groupes suspects</h2>",
        _clusters(r),
        "<h2>Résultats selon les scénarios</h2><div class=chart>",
        _scenario_chart(r),
        "</div>",
        _scenario_table(r),
        _segments_table(r),
        "<h2>Évolution des réponses</h2><div class=chart>",
        _shares_chart(r),
        "</div><h2>Robustesse</h2><div class=chart>",
        _robust_chart(r),
        "</div>",
        _robustness(r),
        "<h2>Ce qui n'a pas pu être vérifié</h2>",
        f"<ul>{skipped}</ul>" if skipped else "<p>Toutes les vérifications ont pu être faites.</p>",
        "<p class=small>Les adresses IP et navigateurs ne figurent pas dans ce rapport : ils sont "
        "remplacés par des pseudonymes (HMAC) avant toute analyse. La liste complète des réponses, "
        "avec score et motifs, est dans l'export JSON.</p></body></html>",
    ]
    return "".join(parts)


def render_pdf(result: AuditResult, out: pathlib.Path) -> None:
    import weasyprint

    weasyprint.HTML(string=render_html(result)).write_pdf(str(out))
