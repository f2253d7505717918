{#
    One row per unified customer (统一客户画像) across brands, channels and consultations.
    RFM (as of the latest business date loaded):
    - recency_days: days since the last purchase;
    - frequency: sale orders in the trailing 365 days; monetary: their recognised revenue;
    - r/f/m scores 1–5 by quintile among customers who bought in those 365 days (5 =
      most recent / most frequent / highest spend; ties broken by customer_key);
    - rfm_segment, first rule that applies: NO_PURCHASES (consultations only), LAPSED (no
      purchase in 365 days), CHAMPIONS (R, F, M ≥ 4), NEW (first purchase within 30
      days), LOYAL (F ≥ 4, R ≥ 3), AT_RISK (R ≤ 2, F ≥ 3), HIBERNATING (R ≤ 2, F ≤ 2),
      else POTENTIAL.
    Contact columns are masked forms only; the latest non-empty one is shown.
    Built from the customers' daily activity, which a run updates for its window only:
    every row is rewritten each run because recency and the quintiles move with the as-of
    date, but no run reads more than that compact state. The figures come from
    customer_daily_activity, so a month closed by finance keeps the history it was closed
    with (late data for it counts from the first open month); the contacts are the latest
    known (int_customer__daily_activity), closed months or not.
#}
with

activity as (
    select * from {{ ref('customer_daily_activity') }}
),

contacts as (
    select
        customer_key,
        phone_masked,
        phone_seen_ts,
        email_masked,
        email_seen_ts,
        name_masked,
        name_seen_ts
    from {{ ref('int_customer__daily_activity') }}
),

as_of as (
    select max(business_date) as as_of_date from {{ ref('int_margin__order_lines') }}
),

{# One pass over the activity for the per-customer figures, one for the brand, channel
    and category mix: the activity is the largest input. #}
totals as (
    select
        activity.customer_key,
        min(case when activity.sale_lines > 0 then activity.business_date end)
            as first_purchase_date,
        max(case when activity.sale_lines > 0 then activity.business_date end)
            as last_purchase_date,
        sum(activity.sale_orders) as order_count,
        cast(sum(activity.recognized_revenue) as decimal(18, 2)) as recognized_revenue,
        cast(sum(activity.gross_margin) as decimal(18, 2)) as gross_margin,
        sum(case
            when activity.business_date > {{ dbt.dateadd('day', -365, 'as_of.as_of_date') }}
                then activity.sale_orders
            else 0
        end) as frequency,
        cast(sum(case
            when activity.business_date > {{ dbt.dateadd('day', -365, 'as_of.as_of_date') }}
                then activity.recognized_revenue
            else 0
        end) as decimal(18, 2)) as monetary,
        max(case when activity.brand_code is not null then 1 else 0 end) = 1 as has_lines,
        sum(activity.points_earned) as points_earned,
        sum(activity.points_redeemed) as points_redeemed,
        sum(activity.consultations) as consultation_count,
        max(case when activity.consultations > 0 then activity.business_date end)
            as last_consultation_date
    from activity
    cross join as_of
    group by activity.customer_key
),

{# What was bought: an adjustment row names a brand but no channel or category. #}
mix as (
    select
        customer_key,
        brand_code,
        channel_code,
        category,
        sum(recognized_revenue) as recognized_revenue
    from activity
    where brand_code is not null and not is_adjustment
    group by customer_key, brand_code, channel_code, category
),

{# Every customer known, each with the latest of each masked contact (null: none seen). #}
latest_contact as (
    select
        customer_key,
        {{ latest_non_null('phone_masked', 'phone_seen_ts') }} as phone_masked,
        {{ latest_non_null('email_masked', 'email_seen_ts') }} as email_masked,
        {{ latest_non_null('name_masked', 'name_seen_ts') }} as name_masked
    from contacts
    group by customer_key
),

purchases as (
    select
        customer_key,
        first_purchase_date,
        last_purchase_date,
        order_count,
        recognized_revenue,
        gross_margin,
        frequency,
        monetary
    from totals
    where has_lines
),

brands as (
    select
        customer_key,
        {{ dbt.listagg('brand_code', "','", 'order by brand_code') }} as brands,
        count(*) as brand_count
    from (select distinct
        customer_key,
        brand_code
    from mix) as customer_brands
    group by customer_key
),

channels as (
    select
        customer_key, {{ dbt.listagg('channel_code', "','", 'order by channel_code') }} as channels
    from (select distinct
        customer_key,
        channel_code
    from mix) as customer_channels
    group by customer_key
),

categories as (
    select
        customer_key,
        category,
        row_number() over (
            partition by customer_key order by sum(recognized_revenue) desc, category
        ) as category_rank
    from mix
    group by customer_key, category
),

points as (
    select
        customer_key,
        points_earned,
        points_redeemed
    from totals
),

consultation_counts as (
    select
        customer_key,
        consultation_count,
        last_consultation_date
    from totals
),

customers as (
    select customer_key from totals
    union
    select customer_key from latest_contact
),

scored as (
    select
        purchases.*,
        {{ dbt.datediff('purchases.last_purchase_date', 'as_of.as_of_date', 'day') }}
            as recency_days,
        as_of.as_of_date,
        case when purchases.frequency > 0 then ntile(5) over (
            partition by purchases.frequency > 0
            order by purchases.last_purchase_date, purchases.customer_key
        ) end as r_score,
        case when purchases.frequency > 0 then ntile(5) over (
            partition by purchases.frequency > 0
            order by purchases.frequency, purchases.customer_key
        ) end as f_score,
        case when purchases.frequency > 0 then ntile(5) over (
            partition by purchases.frequency > 0
            order by purchases.monetary, purchases.customer_key
        ) end as m_score
    from purchases
    cross join as_of
),

final as (
    select
        customers.customer_key,
        latest_contact.phone_masked,
        latest_contact.email_masked,
        latest_contact.name_masked,
        brands.brands,
        channels.channels,
        scored.first_purchase_date,
        scored.last_purchase_date,
        cast(coalesce(scored.order_count, 0) as bigint) as order_count,
        cast(coalesce(scored.recognized_revenue, 0) as decimal(18, 2)) as recognized_revenue,
        cast(coalesce(scored.gross_margin, 0) as decimal(18, 2)) as gross_margin,
        cast(scored.recency_days as integer) as recency_days,
        cast(coalesce(scored.frequency, 0) as bigint) as frequency,
        cast(coalesce(scored.monetary, 0) as decimal(18, 2)) as monetary,
        cast(scored.r_score as integer) as r_score,
        cast(scored.f_score as integer) as f_score,
        cast(scored.m_score as integer) as m_score,
        case
            when scored.customer_key is null then 'NO_PURCHASES'
            when scored.frequency = 0 then 'LAPSED'
            when scored.r_score >= 4 and scored.f_score >= 4 and scored.m_score >= 4
                then 'CHAMPIONS'
            when
                scored.first_purchase_date
                > {{ dbt.dateadd('day', -30, 'scored.as_of_date') }} then 'NEW'
            when scored.f_score >= 4 and scored.r_score >= 3 then 'LOYAL'
            when scored.r_score <= 2 and scored.f_score >= 3 then 'AT_RISK'
            when scored.r_score <= 2 and scored.f_score <= 2 then 'HIBERNATING'
            else 'POTENTIAL'
        end as rfm_segment,
        cast(coalesce(points.points_earned, 0) as bigint) as points_earned,
        cast(coalesce(points.points_redeemed, 0) as bigint) as points_redeemed,
        cast(coalesce(points.points_earned, 0) - coalesce(points.points_redeemed, 0) as bigint)
            as points_balance,
        cast(coalesce(consultation_counts.consultation_count, 0) as bigint) as consultation_count,
        consultation_counts.last_consultation_date,
        categories.category as preferred_category,
        coalesce(brands.brand_count, 0) > 1 as is_cross_brand
    from customers
    left join scored on customers.customer_key = scored.customer_key
    left join latest_contact on customers.customer_key = latest_contact.customer_key
    left join brands on customers.customer_key = brands.customer_key
    left join channels on customers.customer_key = channels.customer_key
    left join categories
        on customers.customer_key = categories.customer_key and categories.category_rank = 1
    left join points on customers.customer_key = points.customer_key
    left join consultation_counts on customers.customer_key = consultation_counts.customer_key
)

select * from final
