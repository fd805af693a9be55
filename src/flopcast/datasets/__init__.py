"""Epoch AI's public databases: file kinds, their schemas, and where the data comes from."""
