"""Imports of grid-operator load curves and market price files, with their rejected rows."""
