"""The community's accounts: expenses, income, budget and the economic report."""

from django.urls import URLPattern, URLResolver, path

from cer.treasury import views

app_name = "treasury"

urlpatterns: list[URLPattern | URLResolver] = [
    path("community/<int:pk>/expenses/", views.expense_list, name="expenses"),
    path("expenses/<int:pk>/paid/", views.expense_paid, name="expense_paid"),
    path("expenses/<int:pk>/attachment/", views.expense_attachment, name="expense_attachment"),
    path("expenses/<int:pk>/reverse/", views.expense_reverse, name="expense_reverse"),
    path("community/<int:pk>/income/", views.income_list, name="income"),
    path("income/<int:pk>/reverse/", views.income_reverse, name="income_reverse"),
    path("community/<int:pk>/budget/", views.budget, name="budget"),
    path("community/<int:pk>/report/", views.report, name="report"),
]
