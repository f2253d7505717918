{#- What operations say the books should hold, per order and reconciliation measure. -#}
with

lines as (
    select * from {{ ref('fct_sales_margin') }}
),

{#- grouped by date and brand too (an order has one of each) so that a date filter on this
    view reaches the lines before they are summed -#}
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

final as (
    select source_doc_id, business_date, brand_code, 'REVENUE' as measure,
        cast(revenue as decimal(18, 2)) as amount from per_order
    union all
    select source_doc_id, business_date, brand_code, 'COGS', cast(cogs as decimal(18, 2))
    from per_order
    union all
    select source_doc_id, business_date, brand_code, 'POINTS_LIABILITY',
        cast(points_liability as decimal(18, 2)) from per_order
    union all
    select source_doc_id, business_date, brand_code, 'RECEIVABLES',
        cast(receivables as decimal(18, 2)) from per_order
)

select * from final
