"""Outreach rounds (jalkautuminen): staff visit partner venues in pairs at pre-agreed recurring
times, record anonymous counts afterwards, and the venue's partner sees the visits in its
calendar feed."""
