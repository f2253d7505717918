"""The one resource every yecai asset reads: where the home is and whether this is a demo."""

from __future__ import annotations

import dagster as dg

from pipelines.settings import Settings


class YecaiResource(dg.ConfigurableResource):
    """Paths under the home directory. The PII key is not configuration: it is read from
    $YECAI_PII_KEY when needed, so it never shows in the UI or a run's config."""

    home: str
    start_date: str
    demo: bool = False

    def settings(self) -> Settings:
        from datetime import date
        from pathlib import Path

        return Settings(
            home=Path(self.home), start_date=date.fromisoformat(self.start_date), demo=self.demo
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> YecaiResource:
        return cls(
            home=str(settings.home), start_date=settings.start_date.isoformat(), demo=settings.demo
        )
