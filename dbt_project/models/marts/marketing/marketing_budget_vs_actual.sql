{# Campaign budget against actual (营销预算执行) as analysts see it: closed months as closed
    (macros/closed_periods.sql). #}
{{ closed_period_mart(ref('int_marketing__budget_vs_actual')) }}
