"""The publish engine (no Dagster): the marts file analysts read, replaced atomically
(:mod:`.marts_file`), and the daily business-finance report (:mod:`.report`, drawn with
:mod:`.charts`)."""
