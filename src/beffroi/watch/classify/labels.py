"""CrisisLexT26 label names and how Beffroi maps them onto its three heads."""

from __future__ import annotations

INFORMATIVE = "Related and informative"
INFORMATIVENESS_VALUES = (
    INFORMATIVE,
    "Related - but not informative",
    "Not related",
    "Not applicable",
)

# Source head: the six CrisisLex sources, spelled exactly as in the dataset.
SOURCES = ("Eyewitness", "Government", "NGOs", "Business", "Media", "Outsiders")
SOURCE_VALUES = (*SOURCES, "Not applicable", "Not labeled")

# Info-type head: the six types plus "Not applicable" (what annotators gave to related
# posts without a type, and what an unrelated post is).
INFO_TYPES = (
    "Affected individuals",
    "Infrastructure and utilities",
    "Donations and volunteering",
    "Caution and advice",
    "Sympathy and support",
    "Other Useful Information",
    "Not applicable",
)
INFO_TYPE_VALUES = (*INFO_TYPES, "Not labeled")


def informative_target(label: str) -> bool:
    """Only "Related and informative" counts as informative.

    "Related - but not informative", "Not related" and "Not applicable" are all things a
    volunteer would dismiss, so they form the negative class.
    """
    return label == INFORMATIVE


def info_type_target(label: str, informativeness: str) -> str | None:
    """Training target for the info-type head, or None when the row says nothing.

    Rows outside the crisis were left "Not labeled" by CrisisLex; for them the honest type is
    "Not applicable", so they teach the head what an off-topic post looks like.
    """
    if label in INFO_TYPES:
        return label
    if label == "Not labeled" and informativeness in {"Not related", "Not applicable"}:
        return "Not applicable"
    return None


def source_target(label: str) -> str | None:
    """Training target for the source head: only the six real sources teach it."""
    return label if label in SOURCES else None
