"""Staff roles, granted per compound (see permissions for what each may do)."""

import enum


class Role(enum.Enum):
    COMMITTEE = "committee"
    PROPERTY_MANAGER = "property_manager"
    CANTEEN_OPERATOR = "canteen_operator"
    CLASSROOM_OPERATOR = "classroom_operator"
    STREET_ADMIN = "street_admin"
    CITY_ADMIN = "city_admin"  # held over the whole city (an office grant), never per compound
    CONTRACTOR = "contractor"
