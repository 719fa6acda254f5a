"""Which skills a device type needs.  Issue 4 turns this into managed data; until then it is here."""

DEVICE_TYPE_SKILLS: dict[str, list[str]] = {
    "cnc_lathe": ["FANUC"],
    "machining_center": ["Siemens 840D"],
    "hydraulic_press": ["hydraulic valve block"],
    "injection_molding": ["PLC programming"],
    "grinder": ["spindle"],
    "coolant_unit": ["coolant system"],
}
