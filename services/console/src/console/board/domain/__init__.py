"""Pure rules of the board: agent load, review tasks, deadlines."""
