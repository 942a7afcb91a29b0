"""Shared text tools: Unicode hygiene and normalised matching forms."""
