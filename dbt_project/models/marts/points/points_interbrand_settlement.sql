{# Inter-brand settlement of points (积分通兑结算) as analysts see it: closed months as closed
    (macros/closed_periods.sql). #}
{{ closed_period_mart(ref('int_points__interbrand_settlement')) }}
