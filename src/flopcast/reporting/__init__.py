"""Formatting for people: all unit conversion for display lives here."""
