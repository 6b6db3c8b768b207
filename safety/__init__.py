"""Pair safety for home visits and outreach visits (issue #25.5): the pair taps "we are there" and
"we are done"; when "done" has not come the agreed margin after the planned end, the unit's lead
and the pair's contact person see an alert on the start page and get one e-mail. Logged in the
security log. Nothing here names, addresses or identifies a client."""
