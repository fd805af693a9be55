"""Epoch AI's public databases, embedded as flopcast's default database (CC BY 4.0; see README.md)."""
