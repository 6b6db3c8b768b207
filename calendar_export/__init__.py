"""Calendar export: iCal feeds (per staff member, group, partner organisation, unit) that staff and
partners subscribe to with secret-token URLs, and single-event ``.ics`` downloads."""
