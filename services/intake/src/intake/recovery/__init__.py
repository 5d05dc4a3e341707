"""Lost-link recovery: a customer who lost their tracking link proves the complaint's
reference and a contact it was filed with, gets a one-time code by e-mail and, entering
it, a new link (the old one stops working)."""
