"""Themed client groups: ideas, planning with two facilitators, weekly sessions, enrolment,
attendance and evaluation."""
