"""Pure rules of the backends: what an upstream answer means for the console."""
