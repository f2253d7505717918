"""The gates engine: the compliance gates as Great Expectations suites run in DuckDB.

Every suite belongs to a gate, a Dagster asset check named ``gate_<gate>`` on one asset
(the wiring is ``pipelines/defs/gates``), whose severity comes from ``gates.yaml``:

- ``raw`` (:mod:`.raw`, :mod:`.delivery`): each source's contract rules on the window's
  loaded rows; every business date delivered; the quarantine rate under its threshold;
- ``pii`` (:mod:`.pii`): no value shaped like a phone, e-mail or ID number in a mart;
- ``marts`` (:mod:`.marts`): keys unique, money not null, margin arithmetic holds, each
  read from the dbt project's own tests and contracts;
- ``completeness`` (:mod:`.completeness`): every loaded sale line reaches the marts, daily
  totals tie, every prescription-drug line is compliant or listed;
- ``reconciliation`` (:mod:`.reconciliation`): material brand-day breaks fail, small
  ones warn;
- ``compliance`` (:mod:`.compliance`): what the compliance marts list (warn).

Their SQL lives in ``sql/`` with relation names from the dbt manifest (:mod:`.sql`).
Queries that look for personal data return keys only, never the value they found: results
reach the UI, the gate history and Data Docs.
"""

import os

# Before Great Expectations is first imported (every gates module imports this package
# first): no usage statistics, so nothing reaches for the network at run time.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
