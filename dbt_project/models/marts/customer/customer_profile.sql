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
#}
with

lines as (
    select * from {{ ref('int_margin__order_lines') }}
    where customer_key is not null
),

as_of as (
    select max(business_date) as as_of_date from {{ ref('int_margin__order_lines') }}
),

record_keys as (
    select * from {{ ref('int_identity__record_keys') }}
),

contacts as (
    select
        record_keys.customer_key,
        records.record_source,
        records.record_id,
        records.business_date,
        records.seen_ts,
        records.phone_masked,
        records.email_masked,
        records.name_masked
    from {{ ref('int_identity__records') }} as records
    inner join record_keys
        on
            records.record_source = record_keys.record_source
            and records.record_id = record_keys.record_id
),

latest_contact as (
    select
        customer_key,
        {{ latest_non_null('phone_masked') }} as phone_masked,
        {{ latest_non_null('email_masked') }} as email_masked,
        {{ latest_non_null('name_masked') }} as name_masked
    from contacts
    group by customer_key
),

purchases as (
    select
        lines.customer_key,
        min(case when lines.line_type = 'SALE' then lines.business_date end) as first_purchase_date,
        max(case when lines.line_type = 'SALE' then lines.business_date end) as last_purchase_date,
        count(distinct case when lines.line_type = 'SALE' then lines.order_id end) as order_count,
        cast(sum(lines.recognized_revenue) as decimal(18, 2)) as recognized_revenue,
        cast(sum(lines.gross_margin) as decimal(18, 2)) as gross_margin,
        count(distinct case
            when
                lines.line_type = 'SALE'
                and lines.business_date > {{ dbt.dateadd('day', -365, 'as_of.as_of_date') }}
                then lines.order_id
        end) as frequency,
        cast(sum(case
            when lines.business_date > {{ dbt.dateadd('day', -365, 'as_of.as_of_date') }}
                then lines.recognized_revenue
            else 0
        end) as decimal(18, 2)) as monetary
    from lines
    cross join as_of
    group by lines.customer_key
),

brands as (
    select
        customer_key,
        {{ dbt.listagg('brand_code', "','", 'order by brand_code') }} as brands,
        count(*) as brand_count
    from (select distinct
        customer_key,
        brand_code
    from lines) as customer_brands
    group by customer_key
),

channels as (
    select
        customer_key, {{ dbt.listagg('channel_code', "','", 'order by channel_code') }} as channels
    from (select distinct
        customer_key,
        channel_code
    from lines) as customer_channels
    group by customer_key
),

categories as (
    select
        customer_key,
        category,
        row_number() over (
            partition by customer_key order by sum(recognized_revenue) desc, category
        ) as category_rank
    from lines
    group by customer_key, category
),

points as (
    select
        customer_key,
        sum(credit_points) as points_earned,
        sum(debit_points) as points_redeemed
    from {{ ref('int_points__movements') }}
    group by customer_key
),

consultation_counts as (
    select
        customer_key,
        count(*) as consultation_count,
        max(business_date) as last_consultation_date
    from contacts
    where record_source = 'consultations'
    group by customer_key
),

customers as (
    select distinct customer_key from record_keys
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
