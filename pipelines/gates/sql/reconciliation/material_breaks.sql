-- Brand-days whose revenue or COGS difference exceeds the configured share of revenue.
-- (Adjustment rows carry late data for a closed month: they are not brand-days.)
with

days as (
    select
        business_date,
        brand_code,
        max(case when measure = 'REVENUE' then abs(operational_amount) end) as revenue,
        max(case when measure in ('REVENUE', 'COGS') then abs(difference) end) as difference
    from {{ batch }}
    where {{ window.sql('business_date') }} and not is_adjustment
    group by business_date, brand_code
)

select
    business_date,
    brand_code,
    difference,
    revenue
from days
where difference > {{ share }} * coalesce(revenue, 0)
