"""The numbers of an energy community: pure Python and NumPy, no Django, no clock, no I/O."""
