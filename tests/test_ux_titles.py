"""Titles and where-you-are (#27.8): a page's title names its record (a group's title, a
meeting's date and purpose, never a client's name) and starts with "Virhe:" / "Fel:" /
"Error:" after a failed submit; the group sub-navigation marks the page shown with
aria-current; on a participant's page (nobody signed in) the logo does not lead to the staff
login. The page is read with an HTML parser, not with the templates' own strings."""
from __future__ import annotations

from datetime import date, timedelta
from html.parser import HTMLParser

from core.timeutil import local_today
from tests.factories import make_client, make_user
from tests.test_groups_support import make_group
from tests.test_meetings_support import make_meeting


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.title = ""
        self._in_title = False
        self.current: list[str] = []   # texts of links with aria-current="page" in .group-nav
        self._nav_depth = 0
        self._current_link = False
        self.brand_links: list[str] = []
        self.brand_tags: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._in_title = True
        if tag == "nav" and "group-nav" in (a.get("class") or ""):
            self._nav_depth = 1
        if tag == "a" and self._nav_depth and a.get("aria-current") == "page":
            self._current_link = True
            self.current.append("")
        if "brand" in (a.get("class") or "").split():
            self.brand_tags.append(tag)
            if tag == "a":
                self.brand_links.append(a.get("href", ""))

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag == "nav":
            self._nav_depth = 0
        if tag == "a":
            self._current_link = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._current_link:
            self.current[-1] += data.strip()


def page_of(response) -> Page:
    assert response.status_code == 200, response.status_code
    return Page(response.get_data(as_text=True))


def test_meeting_pages_are_titled_by_date_and_purpose_never_the_client(auth_client, facilitator):
    client = make_client(name="Matti Kuusela", worker=facilitator)
    day = local_today() + timedelta(days=5)
    meeting = make_meeting([facilitator], client=client, day=day, purpose="Asumisen suunnitelma")
    for url in (f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/edit", f"/meetings/{meeting.id}/participants"):
        title = page_of(auth_client.get(url)).title
        assert "Asumisen suunnitelma" in title, (url, title)
        assert day.strftime("%-d.%-m.%Y") in title, (url, title)
        assert "Kuusela" not in title and "Matti" not in title, (url, title)


def test_a_failed_submit_says_so_first_in_the_title_in_each_language(auth_client, facilitator):
    meeting = make_meeting([facilitator], day=local_today() + timedelta(days=5), purpose="Asumisen suunnitelma")
    url = f"/meetings/{meeting.id}"
    assert not page_of(auth_client.get(url)).title.startswith("Virhe:")
    expected = {"fi": "Virhe: ", "sv": "Fel: ", "en": "Error: "}
    for language, prefix in expected.items():
        auth_client.post_form("/language", {"language": language, "next": url}, token_from=url)
        response = auth_client.post_form(f"{url}/items", {"what": "", "responsible": ""}, token_from=url)
        title = page_of(response).title
        assert title.startswith(prefix), (language, title)
        assert "Asumisen suunnitelma" in title


def test_group_pages_name_the_group_and_mark_the_current_page(auth_client, facilitator):
    group = make_group(facilitator, make_user(), title="Raharyhmä kevät", weeks=2, first=date(2027, 1, 4))
    session = group.sessions[0]
    pages = {
        f"/groups/{group.id}": "Suunnitelma ja aikataulu",
        f"/groups/{group.id}/participants": "Osallistujat",
        f"/groups/{group.id}/attendance": "Läsnäolo",
        f"/groups/{group.id}/evaluation": "Arviointi",
    }
    for url, link in pages.items():
        parsed = page_of(auth_client.get(url))
        assert "Raharyhmä kevät" in parsed.title, (url, parsed.title)
        assert parsed.current == [link], (url, parsed.current)
    for url in (f"/groups/{group.id}/schedule", f"/groups/{group.id}/sessions/{session.id}",
                f"/groups/{group.id}/sessions/{session.id}/roll-call", f"/groups/{group.id}/edit"):
        assert "Raharyhmä kevät" in page_of(auth_client.get(url)).title, url
    print_page = auth_client.get(f"/groups/{group.id}/print").get_data(as_text=True)
    assert "<h1>Ryhmän suunnitelma: Raharyhmä kevät</h1>" in print_page
    assert "Tapaamisen suunnitelma" not in print_page


def test_the_logo_leads_nowhere_for_someone_not_signed_in(app, auth_client):
    public = page_of(app.test_client().get("/f"))
    assert public.brand_tags == ["span"] and public.brand_links == []
    staff = page_of(auth_client.get("/"))
    assert staff.brand_links == ["/"]
