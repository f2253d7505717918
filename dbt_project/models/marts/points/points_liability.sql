{#
    Loyalty-point liability (积分合同负债) per business date and brand. A brand's
    outstanding points are those it issued and no one has spent yet: issued − spent of
    its points (wherever they were spent, FIFO per customer). liability_value = outstanding
    / 100 CNY. points_redeemed counts points spent at the brand (whoever issued them).
#}
with

issued as (
    select
        business_date,
        brand_code,
        sum(credit_points) as points_earned
    from {{ ref('int_points__movements') }}
    group by business_date, brand_code
),

spent_at as (
    select
        business_date,
        brand_code,
        sum(debit_points) as points_redeemed
    from {{ ref('int_points__movements') }}
    group by business_date, brand_code
),

consumed as (
    select
        debit_date as business_date,
        earned_brand_code as brand_code,
        sum(points) as points_consumed
    from {{ ref('int_points__fifo_allocations') }}
    where earned_brand_code <> 'OPENING'
    group by debit_date, earned_brand_code
),

days as (
    select
        business_date,
        brand_code
    from issued
    union
    select
        business_date,
        brand_code
    from spent_at
    union
    select
        business_date,
        brand_code
    from consumed
),

daily as (
    select
        days.business_date,
        days.brand_code,
        coalesce(issued.points_earned, 0) as points_earned,
        coalesce(spent_at.points_redeemed, 0) as points_redeemed,
        coalesce(issued.points_earned, 0) - coalesce(consumed.points_consumed, 0) as net_change
    from days
    left join issued
        on days.business_date = issued.business_date and days.brand_code = issued.brand_code
    left join spent_at
        on days.business_date = spent_at.business_date and days.brand_code = spent_at.brand_code
    left join consumed
        on days.business_date = consumed.business_date and days.brand_code = consumed.brand_code
),

running as (
    select
        business_date,
        brand_code,
        points_earned,
        points_redeemed,
        sum(net_change) over (
            partition by brand_code order by business_date
            rows between unbounded preceding and current row
        ) as points_outstanding
    from daily
),

final as (
    select
        business_date,
        brand_code,
        cast(points_earned as bigint) as points_earned,
        cast(points_redeemed as bigint) as points_redeemed,
        cast(points_outstanding as bigint) as points_outstanding,
        {{ points_value('points_outstanding') }} as liability_value
    from running
)

select * from final
