"""Customers and their sites (where the machines stand and engineers drive to)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.db import Base


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    contact_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(30), index=True)
    email: Mapped[str | None] = mapped_column(String(120))
    service_level: Mapped[str] = mapped_column(String(20), default="standard")
    locale: Mapped[str] = mapped_column(String(10), default="zh_Hans")
    # The customer's openid under the plant's WeChat service account (it follows the account): template messages
    # go to it.
    wechat_openid: Mapped[str | None] = mapped_column(String(64))
    sites: Mapped[list[Site]] = relationship(back_populates="customer", order_by="Site.id")


class Site(Base):
    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    region: Mapped[str] = mapped_column(String(60), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    customer: Mapped[Customer] = relationship(back_populates="sites")
