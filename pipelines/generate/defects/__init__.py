"""Real-world defects at a controlled rate, each recorded with its key in the truth log.

Families (``--anomalies RATE`` is the share of eligible records hit, with at least one of
every kind when the rate is above zero and something is eligible):

- INGEST: malformed values, missing required fields, unknown sku or store, duplicate keys
  (sales, consultations, inventory) — ingestion must quarantine exactly these rows.
- RX: prescription-drug lines with no / unknown / expired / over-quantity / wrong-sku
  prescriptions, or sold at a pharmacy whose licence lapsed.
- TRACE: duplicate trace codes, traceable items without a code, expired batches sold.
- LEDGER: orders missing from the ledger, wrong amounts, postings in the wrong period,
  postings with no order.
- MARKETING: campaigns over budget.
- FILE (on request): GBK-encoded file, truncated file, renamed column, same file twice.

Defects never overlap: an order carries at most one, and ingest defects avoid lines whose
loss would change a compliance result, so each defect has exactly one expected outcome.
"""

from pipelines.generate.defects.ledger import inject_ledger_defects
from pipelines.generate.defects.log import (
    DAY_BREAK_BUDGET,
    FILE_DEFECTS,
    INGEST_DEFECTS,
    LEDGER_BREAKS,
    MATERIAL_SHARE,
    RX_REASONS,
    TRACE_ISSUES,
    DefectLog,
)
from pipelines.generate.defects.marketing import choose_over_budget
from pipelines.generate.defects.rows import inject_row_defects
from pipelines.generate.defects.rx import inject_rx_defects
from pipelines.generate.defects.trace import inject_trace_defects

__all__ = [
    "DAY_BREAK_BUDGET",
    "FILE_DEFECTS",
    "INGEST_DEFECTS",
    "LEDGER_BREAKS",
    "MATERIAL_SHARE",
    "RX_REASONS",
    "TRACE_ISSUES",
    "DefectLog",
    "choose_over_budget",
    "inject_ledger_defects",
    "inject_row_defects",
    "inject_rx_defects",
    "inject_trace_defects",
]
