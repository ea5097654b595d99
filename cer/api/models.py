"""The API app keeps no tables of its own: logins and personal tokens are the accounts app's."""
