"""Pure rules of SLA policies: matching, validation, the default matrix. No I/O."""
