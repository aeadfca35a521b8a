"""A closed activation is « Clôturée » in the list: the msgid « Close » was read by Django's
own French catalogue as the verb « Fermer »."""

from django.urls import reverse

from beffroi.watch import actions
from english_catalogue import english


def test_a_closed_activation_is_named_as_closed(client, org, members) -> None:
    coord = members["coordinator"]
    done = actions.create_activation(
        org, name="Tempête", event_type="tempete", area=["85"], actor=coord
    )
    actions.create_activation(org, name="Crue", event_type="inondation", area=["85"], actor=coord)
    actions.close_activation(done, actor=coord)
    client.force_login(coord)
    page = client.get(reverse("watch-activations", args=[org.slug])).content.decode()
    assert "<td>Clôturée</td>" in page and "<td>En cours</td>" in page
    assert "Fermer" not in page
    client.cookies["django_language"] = "en"
    with english():
        page = client.get(reverse("watch-activations", args=[org.slug])).content.decode()
    assert "<td>Closed</td>" in page
