"""Rotation of the contact encryption key: every value intake keeps encrypted, rewritten
under the current key in bounded batches (``intake-admin rotate-contact-key``)."""
