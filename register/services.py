"""Changes to the register. Functions flush; the calling view commits once."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa

from core.extensions import db
from core.timeutil import local_today

from .access import log_access
from .models import Client, ClientWorker, PartnerContact, PartnerOrganisation, Relative


def _consent(obj, consent: bool) -> None:
    """Record the date consent to reminders was given; withdrawing it clears the date."""
    if consent and not obj.reminder_consent:
        obj.consent_date = local_today()
    elif not consent:
        obj.consent_date = None
    obj.reminder_consent = consent


def _postal(client: Client, address: str, consent: bool) -> None:
    """The postal address and the date the client agreed to letters there: a new address, or
    consent withdrawn, clears the date (letters go only to an address agreed to)."""
    address = "\n".join(line.strip() for line in (address or "").strip().splitlines() if line.strip())
    if not address or not consent or address != client.postal_address:
        client.postal_consent_date = None
    if address and consent and client.postal_consent_date is None:
        client.postal_consent_date = local_today()
    client.postal_address = address


def create_client(*, name: str, phone: str = "", email: str = "", language: str = "fi",
                  reminder_consent: bool = False, postal_address: str = "", postal_consent: bool = False,
                  created_by=None, unit_id=None) -> Client:
    """A new client in the unit ``unit_id`` (one of the creator's units; None: the creator's first
    unit, see accounts.units.unit_for_new_record, which raises UnitChoiceError for another's)."""
    from accounts.units import unit_for_new_record

    client = Client(name=name.strip(), phone=phone or "", email=(email or "").strip().lower(), language=language,
                    created_by_id=getattr(created_by, "id", None), postal_address="",
                    unit_id=unit_for_new_record(created_by, unit_id))
    _consent(client, reminder_consent)
    _postal(client, postal_address, postal_consent)
    db.session.add(client)
    db.session.flush()
    if created_by is not None:
        db.session.add(ClientWorker(client_id=client.id, user_id=created_by.id))
        log_access(client.id, "create", user=created_by)
    return client


def update_client(client: Client, *, name: str, phone: str, email: str, language: str, reminder_consent: bool,
                  postal_address: str | None = None, postal_consent: bool = False) -> None:
    client.name = name.strip()
    client.phone = phone or ""
    client.email = (email or "").strip().lower()
    client.language = language
    _consent(client, reminder_consent)
    if postal_address is not None:
        _postal(client, postal_address, postal_consent)
    client.version += 1
    log_access(client.id, "update")


def add_worker(client: Client, user_id: int, *, granted_by=None) -> None:
    """Make a staff member one of the client's workers: a lasting reason to see the client. The
    view checks that ``granted_by`` may grant it (register.access.can_grant_client_access); the
    access-log row names both: the row's user is the grantor, its detail the grantee."""
    from accounts.models import User

    exists = db.session.scalar(sa.select(ClientWorker.id).where(ClientWorker.client_id == client.id,
                                                                  ClientWorker.user_id == user_id))
    if exists is None:
        db.session.add(ClientWorker(client_id=client.id, user_id=user_id))
        grantee = db.session.get(User, user_id)
        name = grantee.name if grantee is not None else "?"
        log_access(client.id, "grant_access", f"to {name} (user {user_id})", user=granted_by)


def save_relative(client: Client, relative: Relative | None, *, name: str, relation: str, phone: str, email: str,
                  language: str, reminder_consent: bool) -> Relative:
    if relative is None:
        relative = Relative(client=client)
        db.session.add(relative)
    relative.name = name.strip()
    relative.relation = relation.strip()
    relative.phone = phone or ""
    relative.email = (email or "").strip().lower()
    relative.language = language
    _consent(relative, reminder_consent)
    db.session.flush()
    log_access(client.id, "relative_saved", f"relative {relative.id}")
    return relative


def delete_relative(relative: Relative) -> None:
    log_access(relative.client_id, "relative_deleted", f"relative {relative.id}")
    db.session.delete(relative)


def partner_name_taken(name: str, exclude_id: int | None = None) -> bool:
    stmt = sa.select(PartnerOrganisation.id).where(sa.func.lower(PartnerOrganisation.name) == name.strip().lower())
    if exclude_id is not None:
        stmt = stmt.where(PartnerOrganisation.id != exclude_id)
    return db.session.scalar(stmt) is not None


_KEEP_UNIT = object()  # save_partner's unit_id when the organisation keeps its unit


def save_partner(partner: PartnerOrganisation | None, *, name: str, kind: str, address: str = "", phone: str = "",
                 notes: str = "", unit_id=_KEEP_UNIT, user=None) -> PartnerOrganisation:
    """``unit_id`` (chosen by ``user``): None for an organisation shared by every unit, or one of
    the user's own units (accounts.units.shared_or_own_unit raises UnitChoiceError otherwise,
    before anything changes)."""
    from accounts.units import shared_or_own_unit

    if unit_id is not _KEEP_UNIT:
        unit_id = shared_or_own_unit(user, unit_id)
    if partner is None:
        partner = PartnerOrganisation()
        db.session.add(partner)
    else:
        partner.version += 1
    partner.name = name.strip()
    partner.kind = kind
    partner.address = address.strip()
    partner.phone = phone or ""
    partner.notes = notes.strip()
    if unit_id is not _KEEP_UNIT:
        partner.unit_id = unit_id
    db.session.flush()
    return partner


def save_contact(partner: PartnerOrganisation, contact: PartnerContact | None, *, name: str, title: str = "",
                 email: str = "", phone: str = "", language: str = "fi") -> PartnerContact:
    if contact is None:
        contact = PartnerContact(organisation=partner)
        db.session.add(contact)
    contact.name = name.strip()
    contact.title = title.strip()
    contact.email = (email or "").strip().lower()
    contact.phone = phone or ""
    contact.language = language
    db.session.flush()
    return contact


# --- names in free text ------------------------------------------------------------------------

def _fold(text: str) -> str:
    """Lower case without accents, doubled letters single: "Pertti" and "pertin", "Åsa" and
    "asa" compare equal in their stems (Finnish consonant gradation doubles and halves letters)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return re.sub(r"(\w)\1+", r"\1", plain)


def _stem(part: str) -> str | None:
    """The part of a name that its inflected forms start with ("Nieminen" -> "niemi" for
    "Niemisen", "Pertti" -> "pert" for "Pertin"); None for initials and very short names."""
    folded = _fold(part)
    if len(folded) < 3 or not folded.isalpha():
        return None
    if folded.endswith("nen") and len(folded) >= 6:
        return folded[:-3]
    if len(folded) >= 6:
        return folded[:-2]
    if len(folded) == 5:
        return folded[:-1]
    return folded


def _stems(name: str) -> list[tuple[str, str]]:
    return [(part, stem) for part in re.split(r"[\s.\-]+", name) if (stem := _stem(part))]


def names_in_text(client: Client, text: str) -> list[str]:
    """The client's and their relatives' first names and surnames that ``text`` contains, in any
    case, with or without accents, inflected ("Laura S:n koti", "Pertin kanssa", "Niemisen"):
    for warning before a text that partners see is saved. Initials are not names here: they
    are how partners may see the client."""
    if not text:
        return []
    words = [_fold(w) for w in re.findall(r"\w+", text)]
    found: list[str] = []
    for name in [client.name, *(r.name for r in client.relatives)]:
        for part, stem in _stems(name):
            if part not in found and any(w.startswith(stem) for w in words):
                found.append(part)
    return found


REDACTED = "[…]"


def redact_names(text: str, names: Sequence[str], literals: Sequence[str] = ()) -> str:
    """``text`` with every word that is one of ``names`` (first names and surnames, inflected,
    matched as ``names_in_text`` matches them) and every literal (a phone number, an email
    address) replaced by ``REDACTED``: for erasing a client from the free text written about
    them. Initials stay: they identify no one once the name is gone."""
    if not text:
        return text
    stems = [stem for name in names for _part, stem in _stems(name)]
    for literal in literals:
        if literal and literal.strip():
            text = re.sub(re.escape(literal.strip()), REDACTED, text, flags=re.IGNORECASE)
    if not stems:
        return text
    return re.sub(r"\w+", lambda m: REDACTED if any(_fold(m.group()).startswith(s) for s in stems) else m.group(),
                  text)
