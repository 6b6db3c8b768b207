"""Hooks outreach visits into the calendar feeds' event-source registry
(``calendar_export.sources``), when that feature is installed. Partners see their venues'
visits; staff see the visits they go on."""
