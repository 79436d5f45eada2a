"""Solver backends behind one small interface, chosen from a registry."""
