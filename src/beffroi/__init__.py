"""Beffroi: consultations anyone can check, and the crisis watch room."""

__version__ = "0.1.0"
