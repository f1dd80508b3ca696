"""Compliance framework catalogues (package data): requirements, their citations and links."""
