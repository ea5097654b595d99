"""Django apps of CerCollettiva, one folder per noun."""
