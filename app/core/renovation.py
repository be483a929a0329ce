"""The renovation's ten items (DESIGN §7), by code: what owners choose in a willingness
vote and what each compound's works are planned by. No Flask here."""

RENOVATION_ITEMS = (
    "demolition",
    "drainage",
    "utilities",
    "waste_rooms",
    "cables",
    "fire_safety",
    "security",
    "roads",
    "walls",
    "lights_chargers",
)
