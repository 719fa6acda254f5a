"""The managed root-cause library, prevention suggestions and the checklists they are promoted to."""
