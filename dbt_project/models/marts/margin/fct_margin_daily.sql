{# Daily margin (日毛利) as analysts see it: closed months as closed, late data for them in
    adjustment rows (macros/closed_periods.sql). #}
-- depends_on: {{ ref('int_finance__period_differences') }}
{{ closed_period_mart(ref('int_margin__daily')) }}
