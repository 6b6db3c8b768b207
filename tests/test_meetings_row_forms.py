"""The meeting page's per-row controls (meetings/row_forms.py): the markup _forms.html's field()
gives, with every value escaped."""
from __future__ import annotations

from types import SimpleNamespace

from markupsafe import Markup

from meetings.row_forms import RowDate, RowSelect, row_csrf


def _field(label, choices=None):
    return SimpleNamespace(args=(label,), kwargs={"choices": choices or []})


def test_a_row_select_marks_the_current_value_and_escapes_everything():
    select = RowSelect(_field("Tila <b>", [("a", "A & B"), ("b\"", "<i>")]))
    html = select("p1-x", "b\"")
    assert isinstance(html, Markup)
    assert html == ('<div class="field">\n  <label for="p1-x">Tila &lt;b&gt;</label>\n'
                    '  <select id="p1-x" name="p1-x"><option value="a">A &amp; B</option>'
                    '<option selected value="b&#34;">&lt;i&gt;</option></select>\n</div>')
    # Another current value, and none: the options are not shared between them.
    assert '<option selected value="a">' in select("p1-x", "a")
    assert "selected" not in select("p2-x", None)
    assert 'id="p&lt;2-x"' in select("p<2-x", None)


def test_a_row_date_and_csrf_field(app):
    assert RowDate(_field("Uusi pvm"))("r5-due_date") == (
        '<div class="field">\n  <label for="r5-due_date">Uusi pvm</label>\n'
        '  <input id="r5-due_date" name="r5-due_date" type="date" value="">\n</div>')
    with app.test_request_context("/"):
        from flask_wtf.csrf import generate_csrf

        html = row_csrf("i7")
        assert html == f'<input id="i7-csrf_token" name="i7-csrf_token" type="hidden" value="{generate_csrf()}">'
