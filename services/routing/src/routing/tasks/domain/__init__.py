"""The tasks' pure rules: kinds and outcomes, who sees and who acts on a task, list cursors."""
