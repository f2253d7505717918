{# What each customer bought and consulted each day (客户日活动) as analysts see it: the
    customer profile's history, closed months as closed, late data for them in adjustment
    rows per customer and brand (macros/closed_periods.sql). #}
-- depends_on: {{ ref('int_finance__period_differences') }}
{{ closed_period_mart(ref('int_customer__daily_activity')) }}
