"""Optional per-job modules: speaker id, voice adaptation, speech rate, emotion / voice style, persona."""
