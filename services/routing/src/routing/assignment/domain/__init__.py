"""Who gets a case (§5), as pure rules: category ownership, agent choice, the refusals."""
