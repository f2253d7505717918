with

lines as (
    select * from {{ ref('int_margin__order_lines') }}
    where {{ in_window('business_date', grain='month') }}
),

allocations as (
    select
        order_id,
        line_no,
        allocated_cents
    from {{ ref('int_marketing__line_allocations') }}
    where {{ in_window('month_start', grain='month') }}
),

lines_with_marketing as (
    select
        lines.*,
        coalesce(allocations.allocated_cents, 0) as allocated_cents
    from lines
    left join allocations
        on lines.order_id = allocations.order_id and lines.line_no = allocations.line_no
),

daily as (
    select
        business_date,
        brand_code,
        channel_code,
        store_id,
        category,
        cast(sum(quantity) as bigint) as units,
        cast(sum(gross_sales) as decimal(18, 2)) as gross_sales,
        cast(sum(discount_amount) as decimal(18, 2)) as discount_amount,
        cast(sum(points_redeemed_value) as decimal(18, 2)) as points_redeemed_value,
        cast(sum(points_earned_value) as decimal(18, 2)) as points_earned_value,
        cast(sum(recognized_revenue) as decimal(18, 2)) as recognized_revenue,
        cast(sum(cogs) as decimal(18, 2)) as cogs,
        cast(sum(gross_margin) as decimal(18, 2)) as gross_margin,
        {{ from_cents('sum(allocated_cents)') }} as allocated_marketing,
        count(*) as order_lines
    from lines_with_marketing
    group by business_date, brand_code, channel_code, store_id, category
),

final as (
    select
        business_date,
        brand_code,
        channel_code,
        store_id,
        category,
        units,
        gross_sales,
        discount_amount,
        points_redeemed_value,
        points_earned_value,
        recognized_revenue,
        cogs,
        gross_margin,
        {# a ratio, not money: computed in floating point, kept to 4 decimals #}

        cast(gross_margin / nullif(recognized_revenue, 0) as decimal(9, 4)) as gross_margin_pct,
        allocated_marketing,
        cast(gross_margin - allocated_marketing as decimal(18, 2)) as contribution_margin,
        order_lines
    from daily
)

select * from final
