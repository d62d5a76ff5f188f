"""Supply pages: stock (the stores, one store's stock, and the forms that move stock)."""

from django.urls import path

from vaxops.supply import views_stock, views_stock_forms

urlpatterns = [
    path("", views_stock.stores, name="stores"),
    path("stores/<str:code>/", views_stock.store, name="store"),
    path("stores/<str:code>/dispatch/", views_stock_forms.dispatch, name="dispatch"),
    path("stores/<str:code>/count/", views_stock_forms.count, name="count"),
    path("stores/<str:code>/adjust/", views_stock_forms.adjust, name="adjust"),
    path("receipts/new/", views_stock_forms.receipt, name="receipt"),
    path("receipts/<int:event_id>/temperature/", views_stock_forms.receipt_temperature, name="receipt_temperature"),
    path("transfers/waiting/", views_stock_forms.waiting, name="waiting"),
    path("transfers/<int:transfer_id>/receive/", views_stock_forms.receive, name="receive"),
    path("transfers/<int:transfer_id>/temperature/", views_stock_forms.supply_temperature, name="temperature"),
]
