"""Failed logins and personal tokens now belong to the accounts app (tables unchanged)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_personalaccesstoken"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="PersonalAccessToken"),
                migrations.DeleteModel(name="LoginFailure"),
            ]
        )
    ]
