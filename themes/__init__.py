"""Stylesheets and colour themes for the console."""

from __future__ import annotations

from pathlib import Path

STYLESHEET = Path(__file__).with_name("base.tcss")
