"""The business dates a gate run judges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

EVERYTHING = (date(1900, 1, 1), date(2999, 12, 31))


@dataclass(frozen=True)
class Window:
    start: date
    end: date

    @classmethod
    def everything(cls) -> Window:
        return cls(*EVERYTHING)

    @property
    def is_everything(self) -> bool:
        return (self.start, self.end) == EVERYTHING

    @property
    def length(self) -> int:
        """How many dates the window holds."""
        return (self.end - self.start).days + 1

    def days(self) -> list[date]:
        """Every date of the window, first to last."""
        return [self.start + timedelta(days=n) for n in range(self.length)]

    def whole_months(self) -> Window:
        """The whole months the window touches, first day to last."""
        first = self.start.replace(day=1)
        following = (self.end.replace(day=1) + timedelta(days=32)).replace(day=1)
        return Window(first, following - timedelta(days=1))

    def sql(self, column: str) -> str:
        """A SQL condition: ``column`` within the window (inclusive)."""
        return f"{column} between date '{self.start}' and date '{self.end}'"

    def months_sql(self, column: str) -> str:
        """A SQL condition: the period ``column`` (YYYY-MM) within the window's months."""
        return (
            f"{column} between strftime(date '{self.start}', '%Y-%m') "
            f"and strftime(date '{self.end}', '%Y-%m')"
        )
