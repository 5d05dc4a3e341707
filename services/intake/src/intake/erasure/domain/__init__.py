"""Pure rules of erasure and legal holds: no I/O."""
