"""Pure rules of the data subjects' rights: whose data a request names and who may ask,
how a correction merges, when retention is due."""
