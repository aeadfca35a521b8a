"""/favicon.ico answers with the site's icon, not a 404."""

import pytest

pytestmark = pytest.mark.usesdb


def test_favicon_ico_redirects_to_the_icon(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302  # not kept for good: the name follows the content
    assert response["Location"].endswith(".svg") and "favicon" in response["Location"]
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    body = b"".join(icon.streaming_content) if icon.streaming else icon.content
    assert b"<svg" in body
