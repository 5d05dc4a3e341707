"""The NPS programme (§7): after each period a reproducible sample of the customers whose
complaint closed in it is asked, once per customer and period, how likely they are to
recommend the organisation (0 to 10); the answer is stored once and published as
``nps.answered``; a customer may ask never to be asked again."""
