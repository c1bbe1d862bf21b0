"""Importers: other tools' case files turned into ordinary refuge scenarios (Flee's CSV folders)."""
