"""Documents of a community: statutes, regulations, signed forms, with versions."""
