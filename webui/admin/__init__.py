"""Admin screens: engineers, dispatch catalogues, the team map and decline analytics."""
