{#
    Inter-brand settlement of loyalty points (积分通兑结算) per month: points earned at one
    brand and spent at another (FIFO per customer). The issuing brand owes the redeeming
    brand settlement_value = points / 100 CNY. Same-brand rows are shown for completeness
    (is_interbrand false: nothing to settle).
#}
with

allocations as (
    select * from {{ ref('int_points__fifo_allocations') }}
),

final as (
    select
        {{ period_of('debit_date') }} as period,
        earned_brand_code,
        redeemed_brand_code,
        cast(sum(points) as bigint) as points,
        {{ points_value('sum(points)') }} as settlement_value,
        earned_brand_code <> redeemed_brand_code as is_interbrand
    from allocations
    group by {{ period_of('debit_date') }}, earned_brand_code, redeemed_brand_code
)

select * from final
