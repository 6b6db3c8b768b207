"""Reminders, meeting invitations and no-show follow-ups, sent by SMS and e-mail.

Policies say when a group's sessions or a network meeting are reminded; ``flask send-reminders``
queues what is due into the outbox and sends it exactly once; absences create follow-up tasks.
"""
