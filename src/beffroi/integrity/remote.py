"""Fetch responses from a LimeSurvey server over RemoteControl 2 (JSON-RPC) with citric."""

from __future__ import annotations

from beffroi.integrity.errors import InputError
from beffroi.integrity.load import _decode


def fetch_responses_csv(url: str, user: str, password: str, survey_id: int) -> str:
    """The survey's responses as LimeSurvey CSV text (question codes, answer codes)."""
    import citric
    import requests

    try:
        with citric.Client(url, user, password) as client:
            raw = client.export_responses(
                survey_id, file_format="csv", heading_type="code", response_type="short"
            )
    except requests.RequestException as exc:
        raise InputError(f"Serveur LimeSurvey injoignable ({url}) : {exc}.") from exc
    except citric.exceptions.LimeSurveyError as exc:  # type: ignore[attr-defined]
        raise InputError(f"Le serveur LimeSurvey a refusé la demande : {exc}.") from exc
    return _decode(raw)
