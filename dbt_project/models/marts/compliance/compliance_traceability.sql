{# Traceability issues (追溯码) as analysts see them: closed months as closed
    (macros/closed_periods.sql). #}
{{ closed_period_mart(ref('int_compliance__traceability_issues')) }}
