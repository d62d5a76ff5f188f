"""Small readers shared by the ledger tests: what a user would look at after a movement."""

from __future__ import annotations

import datetime as dt
import uuid

from vaxops.supply.models import StockBalance, StockEvent, StockLine, Transfer
from vaxops.supply.services import ReceiptLineIn, TransferLineIn, dispatch_transfer, receive_transfer

AT = dt.datetime(2021, 5, 10, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def on_hand(world, store: str, lot: str = "bibp") -> int:
    row = StockBalance.objects.filter(store=world.stores[store], lot=world.lots[lot]).first()
    return row.on_hand if row else 0


def held(world, store: str, lot: str = "bibp") -> bool:
    row = StockBalance.objects.filter(store=world.stores[store], lot=world.lots[lot]).first()
    return bool(row and row.on_hold)


def counts() -> tuple[int, int, int, int]:
    """Rows of the ledger and its documents, to prove a refusal wrote nothing."""
    return (StockEvent.objects.count(), StockLine.objects.count(), Transfer.objects.count(),
            sum(StockBalance.objects.values_list("on_hand", flat=True)))


def send(world, doses=500, *, lot="B2021001", frm="KD-CDC", to="KD-MASS", user="supply_officer", **kw) -> Transfer:
    transfer, _ = dispatch_transfer(
        client_uuid=kw.pop("client_uuid", uuid.uuid4()), from_store_code=frm, to_store_code=to,
        lines=[TransferLineIn(lot, doses)], acting_user=world.users[user], source="api", **kw)
    return transfer


def receive(world, transfer: Transfer, accepted: int, rejected: int = 0, *, reason=None, celsius=5.0,
            user="site_manager", lot="B2021001") -> Transfer:
    return receive_transfer(
        transfer_id=transfer.pk, lines=[ReceiptLineIn(lot, accepted, rejected, reason)],
        arrival_temperature_c=celsius, acting_user=world.users[user], source="api")
