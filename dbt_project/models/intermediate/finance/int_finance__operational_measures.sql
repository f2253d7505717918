{# What operations say the books should hold, per order and reconciliation measure. #}
with

lines as (
    select * from {{ ref('int_margin__order_lines') }}
),


{# grouped by date and brand too (an order has one of each) so that a date filter on this
    view reaches the lines before they are summed #}
per_order as (
    select
        order_id as source_doc_id,
        business_date,
        brand_code,
        sum(recognized_revenue) as revenue,
        sum(cogs) as cogs,
        sum(points_earned_value - points_redeemed_value) as points_liability,
        sum(net_amount + tax_amount) as receivables
    from lines
    group by order_id, business_date, brand_code
),


{# one row per order and measure, from one pass over the lines #}
measures as (
    select 'REVENUE' as measure
    union all
    select 'COGS' as measure
    union all
    select 'POINTS_LIABILITY' as measure
    union all
    select 'RECEIVABLES' as measure
),

final as (
    select
        per_order.source_doc_id,
        per_order.business_date,
        per_order.brand_code,
        measures.measure,
        cast(case measures.measure
            when 'REVENUE' then per_order.revenue
            when 'COGS' then per_order.cogs
            when 'POINTS_LIABILITY' then per_order.points_liability
            else per_order.receivables
        end as decimal(18, 2)) as amount
    from per_order
    cross join measures
)

select * from final
