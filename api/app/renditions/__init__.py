"""Renditions: the smaller and differently encoded copies chat apps ask for (Tenor's formats)."""
