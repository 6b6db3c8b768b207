import pytest

from tests.browser import assert_accessible, browser_login
from tests.factories import PASSWORD


@pytest.mark.browser
def test_login_page_accessible(page, facilitator):
    page.goto("/login")
    assert_accessible(page)
    browser_login(page, facilitator.email, PASSWORD)
    assert_accessible(page)
