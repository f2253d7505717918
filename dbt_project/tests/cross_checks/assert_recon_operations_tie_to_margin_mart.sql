-- The operational side of reconciliation is the line-level margin, measure by measure.
with marts as (
    select
        business_date,
        brand_code,
        sum(recognized_revenue) as revenue,
        sum(cogs) as cogs,
        sum(points_earned_value - points_redeemed_value) as points_liability,
        sum(net_amount + tax_amount) as receivables
    from {{ ref('int_margin__order_lines') }}
    group by business_date, brand_code
),

recon as (
    select
        business_date,
        brand_code,
        sum(case when measure = 'REVENUE' then operational_amount end) as revenue,
        sum(case when measure = 'COGS' then operational_amount end) as cogs,
        sum(case when measure = 'POINTS_LIABILITY' then operational_amount end) as points_liability,
        sum(case when measure = 'RECEIVABLES' then operational_amount end) as receivables
    from {{ ref('int_finance__recon_daily') }}
    group by business_date, brand_code
)

select
    marts.business_date,
    marts.brand_code
from marts
left join recon
    on marts.business_date = recon.business_date and marts.brand_code = recon.brand_code
where
    recon.business_date is null
    or marts.revenue <> recon.revenue
    or marts.cogs <> recon.cogs
    or marts.points_liability <> recon.points_liability
    or marts.receivables <> recon.receivables
