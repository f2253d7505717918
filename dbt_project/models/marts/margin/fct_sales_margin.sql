{# Margin per order line (订单行毛利) as analysts drill into it: the line-level fact every
    mart builds on, with closed months as closed (macros/closed_periods.sql). #}
{{ closed_period_mart(ref('int_margin__order_lines')) }}
