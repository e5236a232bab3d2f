"""Curation: pick the subset of an audited dataset to train on, with every drop explained."""
