{#
    Loyalty-point liability (积分合同负债) per business date and brand. A brand's
    outstanding points are those it issued and no one has spent yet: issued − spent of
    its points (wherever they were spent, FIFO per customer). liability_value = outstanding
    / 100 CNY. points_redeemed counts points spent at the brand (whoever issued them).
    Incremental: a run replaces every date from its window's first (a change moves every
    later balance), starting from each brand's balance the day before.
#}
with

movements as (
    select * from {{ ref('int_points__movements') }}
    {% if is_incremental() %}where {{ in_window('business_date', 'onward') }}{% endif %}
),

allocations as (
    select * from {{ ref('int_points__fifo_allocations') }}
    {% if is_incremental() %}where {{ in_window('debit_date', 'onward') }}{% endif %}
),

issued as (
    select
        business_date,
        brand_code,
        sum(credit_points) as points_earned
    from movements
    group by business_date, brand_code
),

spent_at as (
    select
        business_date,
        brand_code,
        sum(debit_points) as points_redeemed
    from movements
    group by business_date, brand_code
),

consumed as (
    select
        debit_date as business_date,
        earned_brand_code as brand_code,
        sum(points) as points_consumed
    from allocations
    where earned_brand_code <> 'OPENING'
    group by debit_date, earned_brand_code
),

{# Each brand's balance at the end of the day before the window. #}
opening as (
    {% if is_incremental() %}
        select
            brand_code,
            points_outstanding
        from (
            select
                brand_code,
                points_outstanding,
                row_number() over (
                    partition by brand_code order by business_date desc
                ) as recency
            from {{ this }}
            where business_date < {{ window_start() }}
        ) as earlier
        where recency = 1
    {% else %}
        select
            cast(null as varchar) as brand_code,
            cast(0 as bigint) as points_outstanding
        where false
    {% endif %}
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
        daily.business_date,
        daily.brand_code,
        daily.points_earned,
        daily.points_redeemed,
        coalesce(opening.points_outstanding, 0) + sum(daily.net_change) over (
            partition by daily.brand_code order by daily.business_date
            rows between unbounded preceding and current row
        ) as points_outstanding
    from daily
    left join opening on daily.brand_code = opening.brand_code
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
