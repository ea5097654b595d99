"""pagoPA payment notices behind one provider interface (base.py); GPD is the adapter (gpd.py)."""
