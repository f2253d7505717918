-- Business dates of the window whose line count or gross sales differ between staging and the mart.
with

marts_lines as (
    select * from {{ batch }}
),

staged as (
    select
        business_date,
        count(*) as line_count,
        sum(
            case when line_type = 'RETURN' then -1 else 1 end * quantity * unit_price
        ) as gross_sales
    from {{ ref('stg_sales__order_lines') }}
    where {{ window.sql('business_date') }}
    group by business_date
),

published as (
    select
        business_date,
        count(*) as line_count,
        sum(gross_sales) as gross_sales
    from marts_lines
    group by business_date
)

select coalesce(staged.business_date, published.business_date) as business_date
from staged
full outer join published on staged.business_date = published.business_date
where
    staged.line_count is distinct from published.line_count
    or staged.gross_sales is distinct from published.gross_sales
