{# Reconciliation breaks (对账差异明细) as analysts see them: closed months as closed
    (macros/closed_periods.sql). #}
{{ closed_period_mart(ref('int_finance__recon_documents')) }}
