"""A small multilingual concept lexicon written for Beffroi.

The training events are mostly English, Spanish, Italian, Portuguese, Tagalog and Russian;
Beffroi's users post in French. Mapping crisis words of several languages onto shared
concept features ("c:flood") lets a French post switch on weights the model learnt from
English ones. Entries are accent-free, lowercase word prefixes; stems shorter than 4 letters
must match a whole word. Multi-word names are written as their most telling word
("red" of "red cross").
"""

from __future__ import annotations

CONCEPTS: dict[str, str] = {
    "flood": "flood inond crue crues inunda alluvion alagamen enchente baha submer наводн",
    "fire": ("fire wildfire bushfire blaze incendi feu fuego fogo sunog flames flamme llama пожар"),
    "quake": "earthquake quake seism sism tremblement terremot terremoto lindol землетр",
    "storm": (
        "storm typhoon hurrican cyclon tempet tormenta tempesta ouragan bagyo tornad orage буря"
    ),
    "explosion": "explos blast exploded взрыв",
    "shooting": "shoot gunman gunfire fusillad tiroteo sparator attentat attack bomb",
    "evacuate": "evacu desaloj sfollat lumikas",
    "dead": (
        "dead death died killed toll mort muert fallecid morti vittim victim patay погиб жертв"
    ),
    "injured": "injur wound blesse herido ferit ferido sugatan пострад ранен",
    "missing": "missing disparu desapar dispers nawawala",
    "trapped": "trapped stranded bloque coince atrapad intrappol isole natrap",
    "rescue": "rescu secour rescat soccors resgat sauvet спас",
    "help": "help aide aidez ayuda aiuto ajuda tulong sos помог",
    "donate": "donat don dons donacion donazion doacao relief collecte fundrais",
    "volunteer": "volunt benevol voluntar volontar bayanihan",
    "shelter": "shelter heberg refug albergu abrigo evacuation gymnase",
    "road": (
        "road route street highway rue carretera strada estrada autoroute calle kalsada "
        "bridge pont puente ponte"
    ),
    "closed": (
        "closed closure blocked coupe ferme cerrad chius bloquead sarado impassable impraticable"
    ),
    "power": "power outage electric electricit courant luz corrente blackout brownout kuryente",
    "water": "water eau agua acqua tubig вода",
    "damage": "damage destroy degat dommage dano danni destrui sirang",
    "collapse": "collaps effondr derrumb crollo crollat desab gumuho",
    "warning": (
        "warning alert vigilance alerte alerta allerta aviso advisory babala signal предупр"
    ),
    "advice": (
        "avoid evitez evite stay restez quedese restate safe consign precau caution "
        "prudence magingat"
    ),
    "prayer": (
        "pray prier priere pensee thoughts oracion rezar preghier dasal condolen "
        "condoleanc молит rip"
    ),
    "police": "police polic polizi gendarm carabin pulis полиц",
    "firefighters": "firefight pompier bombero bombeir vigili sdis bumbero",
    "hospital": "hospital hopital ospedal urgences больниц",
    "authority": (
        "govern gouvern gobiern prefect prefet mayor maire sindaco alcald ministr council "
        "mairie municip officials authorit autorit"
    ),
    "ngo": ("redcross red croix croixrouge cruz croce unicef ngo ong charity association oxfam"),
    "news": "breaking news urgent ultima ultim info reporter journal noticia notizi balita",
    "train": "train derail tren treno trem rail поезд",
}


def prefix_index() -> dict[str, str]:
    """Word prefix → concept; the first concept listing a prefix wins."""
    index: dict[str, str] = {}
    for concept, stems in CONCEPTS.items():
        for stem in stems.split():
            index.setdefault(stem, concept)
    return index
