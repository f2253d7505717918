-- The daily margin holds exactly the sums of the order lines (no line lost or counted twice),
-- in the months the run rebuilt (earlier months were checked by the runs that built them).
with lines as (
    select
        business_date,
        brand_code,
        channel_code,
        store_id,
        category,
        sum(quantity) as units,
        sum(gross_sales) as gross_sales,
        sum(discount_amount) as discount_amount,
        sum(recognized_revenue) as recognized_revenue,
        sum(cogs) as cogs,
        sum(gross_margin) as gross_margin,
        count(*) as order_lines
    from {{ ref('int_margin__order_lines') }}
    where {{ in_window('business_date', 'month') }}
    group by business_date, brand_code, channel_code, store_id, category
),

daily as (
    select * from {{ ref('int_margin__daily') }}
    where {{ in_window('business_date', 'month') }}
)

select coalesce(lines.business_date, daily.business_date) as business_date
from lines
full outer join daily
    on
        lines.business_date = daily.business_date
        and lines.brand_code = daily.brand_code
        and lines.channel_code = daily.channel_code
        and lines.store_id = daily.store_id
        and lines.category is not distinct from daily.category
where
    lines.business_date is null or daily.business_date is null
    or lines.units <> daily.units
    or lines.gross_sales <> daily.gross_sales
    or lines.discount_amount <> daily.discount_amount
    or lines.recognized_revenue <> daily.recognized_revenue
    or lines.cogs <> daily.cogs
    or lines.gross_margin <> daily.gross_margin
    or lines.order_lines <> daily.order_lines
