"""The notice of a French-only report is inside the page's main region (axe: region)."""

import pytest

from beffroi.audits.views import _with_notice

NOTICE = b'<p lang="en">French only</p>'


def test_into_the_reports_main():
    page = b'<html><body><header>h</header><main class="r"><h1>fr</h1></main></body></html>'
    assert _with_notice(page, NOTICE) == (
        b'<html><body><header>h</header><main class="r">' + NOTICE + b"<h1>fr</h1></main>"
        b"</body></html>"
    )


def test_an_old_report_without_main_gets_one_around_its_body():
    page = b'<html lang=fr><head></head><body class="x"><h1>fr</h1></body></html>'
    assert _with_notice(page, NOTICE) == (
        b'<html lang=fr><head></head><body class="x"><main>' + NOTICE + b"<h1>fr</h1></main>"
        b"</body></html>"
    )


@pytest.mark.parametrize("page", [b"", b"<h1>no body</h1>", b"</body><body>"])
def test_a_page_without_a_usable_body_keeps_the_notice_first(page):
    assert _with_notice(page, NOTICE) == NOTICE + page
