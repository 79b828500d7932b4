"""Test support: the real embedded infrastructure and helpers to run workers."""
