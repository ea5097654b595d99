"""Login failures and personal tokens move here from the API app (same tables); API
login families and the per-address lockout index are new."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

moved_models = [
    migrations.CreateModel(
        name="LoginFailure",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
            ("username", models.CharField(max_length=150, verbose_name="username")),
            ("ip_address", models.GenericIPAddressField(verbose_name="IP address")),
            ("at", models.DateTimeField(verbose_name="at")),
        ],
        options={
            "db_table": "api_loginfailure",
            "verbose_name": "failed login",
            "verbose_name_plural": "failed logins",
            "ordering": ["-at", "-pk"],
            "indexes": [
                models.Index(
                    fields=["username", "ip_address", "at"], name="api_loginfa_usernam_228eac_idx"
                )
            ],
        },
    ),
    migrations.CreateModel(
        name="PersonalAccessToken",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                ),
            ),
            ("name", models.CharField(max_length=100, verbose_name="name")),
            ("scopes", models.JSONField(default=list, verbose_name="scopes")),
            ("prefix", models.CharField(db_index=True, max_length=16, verbose_name="prefix")),
            ("secret_hash", models.CharField(max_length=64, unique=True, verbose_name="secret hash")),
            ("created_at", models.DateTimeField(verbose_name="created at")),
            ("expires_at", models.DateTimeField(verbose_name="expires at")),
            ("last_used_at", models.DateTimeField(blank=True, null=True, verbose_name="last used at")),
            ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked at")),
            (
                "owner",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="personal_access_tokens",
                    to=settings.AUTH_USER_MODEL,
                    verbose_name="owner",
                ),
            ),
        ],
        options={
            "db_table": "api_personalaccesstoken",
            "verbose_name": "personal access token",
            "verbose_name_plural": "personal access tokens",
            "ordering": ["-created_at", "-pk"],
        },
    ),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("api", "0002_personalaccesstoken"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=moved_models),
        migrations.AddIndex(
            model_name="loginfailure",
            index=models.Index(fields=["ip_address", "at"], name="accounts_failure_address_idx"),
        ),
        migrations.CreateModel(
            name="TokenFamily",
            fields=[
                ("id", models.CharField(max_length=32, primary_key=True, serialize=False, verbose_name="id")),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked at")),
                ("revoked_because", models.CharField(blank=True, max_length=40, verbose_name="revoked because")),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="token_families",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "API login",
                "verbose_name_plural": "API logins",
                "ordering": ["-created_at"],
            },
        ),
    ]
