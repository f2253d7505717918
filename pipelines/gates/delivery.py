"""The raw gate's delivery suite, from the ingestion audit: every business date of the
window delivered, and the quarantine rate of each under its threshold."""

from __future__ import annotations

from pipelines.gates.config import GateConfig
from pipelines.gates.raw import GATE, STAGING_MODELS
from pipelines.gates.sql import render
from pipelines.gates.suite import GateSuite, Suite, unexpected
from pipelines.gates.window import Window
from pipelines.transform.manifest import Manifest


def delivery_suite(
    source: str, window: Window, config: GateConfig, manifest: Manifest
) -> GateSuite:
    expectations = [
        unexpected(
            render(
                "delivery/quarantine_rate.sql",
                manifest,
                rows_tolerated=config.quarantine_rows_tolerated,
                rate_max=config.quarantine_rate_max,
            ),
            f"quarantine rate at most {config.quarantine_rate_max:.1%} per business date "
            f"(or at most {config.quarantine_rows_tolerated} rows)",
        )
    ]
    if not window.is_everything:
        expectations.append(
            unexpected(
                render("delivery/every_date_delivered.sql", manifest, window=window),
                "every business date delivered",
            )
        )
    files = render("delivery/files.sql", manifest, delivering_source=source, window=window)
    return GateSuite(
        GATE,
        ("staging", STAGING_MODELS[source]),
        Suite(f"delivery_{source}", files, tuple(expectations)),
    )
