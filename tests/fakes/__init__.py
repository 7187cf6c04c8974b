"""Loopback fakes that speak the providers' real protocols (fal queue, Gemini, ElevenLabs).

Each is a real HTTP server on 127.0.0.1 in a thread, so the real SDK clients are exercised
end to end without the internet. See fixtures.py for the pytest fixtures.
"""
