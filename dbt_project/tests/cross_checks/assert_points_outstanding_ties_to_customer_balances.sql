-- Every customer's balance is earned − redeemed, and what the brands still owe adds up to
-- the customers' balances (plus points spent from balances older than the data).
with customers as (
    select
        sum(points_balance) as balances,
        sum(case when points_balance <> points_earned - points_redeemed then 1 else 0 end)
            as inconsistent
    from {{ ref('customer_profile') }}
),

latest as (
    select
        brand_code,
        points_outstanding,
        row_number() over (partition by brand_code order by business_date desc) as recency
    from {{ ref('int_points__liability_daily') }}
),

brands as (
    select coalesce(sum(points_outstanding), 0) as outstanding from latest
    where recency = 1
),

opening as (
    select coalesce(sum(points), 0) as points
    from {{ ref('int_points__fifo_allocations') }}
    where earned_brand_code = 'OPENING'
)

select
    customers.balances,
    brands.outstanding,
    opening.points,
    customers.inconsistent
from customers cross join brands cross join opening
where
    customers.inconsistent > 0
    or brands.outstanding <> customers.balances + opening.points
