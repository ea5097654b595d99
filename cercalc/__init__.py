"""The numbers of an energy community: pure Python and NumPy, no Django, no clock.

The calculation modules do no I/O: they take plain values and return frozen data classes.
Only the two adapters on top of them touch files, for the `cer settle` command: case.py reads
a case file and the CSV of its hours (ENGINE_IO.md), cli.py writes the result.
"""
