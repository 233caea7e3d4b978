"""Loopback fakes that speak the real wire protocols of the providers."""
