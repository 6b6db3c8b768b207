"""Network meetings (verkostopalaveri): the client, partners and relatives agree who does what,
with whom, by when; open items are reviewed at the next meeting."""
