"""Pure rules of staffing."""
