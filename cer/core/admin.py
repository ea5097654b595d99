from django.contrib import admin

from cer.core.models import Municipality, TaskRecord


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["istat_code", "name", "province_abbr", "region", "population"]
    list_filter = ["region"]
    search_fields = ["istat_code", "name", "cadastral_code"]


@admin.register(TaskRecord)
class TaskRecordAdmin(admin.ModelAdmin):
    """The background tasks people asked for (docs/tasks.md): to read, never to edit."""

    list_display = ["pk", "name", "state", "attempts", "requested_at", "finished_at"]
    list_filter = ["state", "name"]
    search_fields = ["key", "task_id", "error"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _sane_schedules_admin() -> None:
    """Give the schedules' admin (django-celery-beat) the project's date-hierarchy guard.

    Its list of periodic tasks has a date hierarchy on `start_time`, which answered
    ?start_time__year=9999 with a server error; importing its admin module here registers
    it first, so that it can be registered again with SaneDateHierarchy.
    """
    from django_celery_beat import admin as beat_admin
    from django_celery_beat.models import PeriodicTask

    from cer.core.admin_mixins import SaneDateHierarchy

    class PeriodicTaskAdmin(SaneDateHierarchy, beat_admin.PeriodicTaskAdmin):
        pass

    admin.site.unregister(PeriodicTask)
    admin.site.register(PeriodicTask, PeriodicTaskAdmin)


_sane_schedules_admin()
