"""No start-page panel any more: the worker's outreach visits (and those still waiting for their
anonymous counts) are in the agenda, outreach/agenda.py."""
