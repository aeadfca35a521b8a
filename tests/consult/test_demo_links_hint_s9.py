"""`make run` prints two credential links to try only when it first loads the demo (their
codes are never stored). A newcomer who restarts it gets no links: the second run says
where they went and how to get new ones, instead of leaving them to search."""

from __future__ import annotations

from beffroi.consult import demo
from beffroi.consult.cli_example_bundle import setup_consultation


def test_a_second_load_says_the_links_were_printed_once_and_how_to_get_new_ones(org):
    setup_consultation(org, cid=demo.CID, access="mixed", open_it=False)
    said = list(demo.load(org))
    assert "already loaded" in said[0]
    assert not any("try a credential link" in line for line in said)
    assert said[1] == (
        "  its credential links were printed when it was first loaded; for new ones, stop "
        "the server and delete the data directory (var/ under make run), then start again"
    )
