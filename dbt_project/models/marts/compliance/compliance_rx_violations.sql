{# Prescription-drug violations (处方合规) as analysts see them: closed months as closed
    (macros/closed_periods.sql). #}
{{ closed_period_mart(ref('int_compliance__rx_violations')) }}
