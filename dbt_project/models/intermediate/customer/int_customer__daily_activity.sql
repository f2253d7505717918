{#
    What each customer did on each business date (客户日活动), the compact state the customer
    profile is built from: one row per customer, date, brand, channel and category of
    their order lines, and one per customer and date of their records (contacts,
    consultations; brand, channel and category empty). A run rebuilds its window's dates
    from the window's lines and records (its first build reads every line and record
    already built, so adding it to a warehouse with history needs no backfill); a customer merged into another moves to the
    survivor (post-hook; in the rows of closed months too, closed.customer_daily_activity),
    so a customer may hold two rows of one group for a while: every reader sums them.
    customer_daily_activity publishes its figures, closed months as closed.
    - sale_orders counts each sale order once, on the group of its first sale line, so
      it adds up over any grouping;
    - the contact columns are the latest non-empty masked form of the day, with the time
      it was seen.
#}
{{ config(post_hook=[
    "{% if is_incremental() %}{{ rekey_merged_customers(this) }}{% endif %}",
    "{% if is_incremental() %}{{ rekey_merged_customers(source('closed', 'customer_daily_activity')) }}{% endif %}",
]) }}
-- depends_on: {{ ref('int_identity__key_merges') }}

with

order_lines as (
    select * from {{ ref('int_margin__order_lines') }}
    {% if is_incremental() %}where {{ in_window('business_date') }}{% endif %}
),

movements as (
    select * from {{ ref('int_points__movements') }}
    {% if is_incremental() %}where {{ in_window('business_date') }}{% endif %}
),

lines as (
    select
        order_lines.customer_key,
        order_lines.business_date,
        order_lines.brand_code,
        order_lines.channel_code,
        order_lines.category,
        order_lines.line_type,
        order_lines.recognized_revenue,
        order_lines.gross_margin,
        coalesce(movements.credit_points, 0) as credit_points,
        coalesce(movements.debit_points, 0) as debit_points,
        order_lines.line_type = 'SALE' and row_number() over (
            partition by order_lines.order_id, order_lines.line_type order by order_lines.line_no
        ) = 1 as is_first_sale_line
    from order_lines
    left join movements
        on
            order_lines.order_id = movements.order_id
            and order_lines.line_no = movements.line_no
    where order_lines.customer_key is not null
),

purchases as (
    select
        customer_key,
        business_date,
        brand_code,
        channel_code,
        category,
        sum(case when is_first_sale_line then 1 else 0 end) as sale_orders,
        sum(case when line_type = 'SALE' then 1 else 0 end) as sale_lines,
        cast(sum(recognized_revenue) as decimal(18, 2)) as recognized_revenue,
        cast(sum(gross_margin) as decimal(18, 2)) as gross_margin,
        sum(credit_points) as points_earned,
        sum(debit_points) as points_redeemed
    from lines
    group by customer_key, business_date, brand_code, channel_code, category
),

records as (
    select
        record_keys.customer_key,
        records.business_date,
        records.record_source,
        records.seen_ts,
        records.phone_masked,
        records.email_masked,
        records.name_masked
    from {{ ref('int_identity__records') }} as records
    inner join {{ ref('int_identity__record_keys') }} as record_keys
        on
            records.record_source = record_keys.record_source
            and records.record_id = record_keys.record_id
    {% if is_incremental() %}where {{ in_window('records.business_date') }}{% endif %}
),

contacts as (
    select
        customer_key,
        business_date,
        sum(case when record_source = 'consultations' then 1 else 0 end) as consultations,
        {{ latest_non_null('phone_masked') }} as phone_masked,
        max(case when phone_masked is not null then seen_ts end) as phone_seen_ts,
        {{ latest_non_null('email_masked') }} as email_masked,
        max(case when email_masked is not null then seen_ts end) as email_seen_ts,
        {{ latest_non_null('name_masked') }} as name_masked,
        max(case when name_masked is not null then seen_ts end) as name_seen_ts
    from records
    group by customer_key, business_date
),

final as (
    select
        customer_key,
        business_date,
        brand_code,
        channel_code,
        category,
        cast(sale_orders as bigint) as sale_orders,
        cast(sale_lines as bigint) as sale_lines,
        recognized_revenue,
        gross_margin,
        cast(points_earned as bigint) as points_earned,
        cast(points_redeemed as bigint) as points_redeemed,
        cast(0 as bigint) as consultations,
        cast(null as varchar) as phone_masked,
        cast(null as {{ dbt.type_timestamp() }}) as phone_seen_ts,
        cast(null as varchar) as email_masked,
        cast(null as {{ dbt.type_timestamp() }}) as email_seen_ts,
        cast(null as varchar) as name_masked,
        cast(null as {{ dbt.type_timestamp() }}) as name_seen_ts
    from purchases
    union all
    select
        customer_key,
        business_date,
        cast(null as varchar) as brand_code,
        cast(null as varchar) as channel_code,
        cast(null as varchar) as category,
        cast(0 as bigint) as sale_orders,
        cast(0 as bigint) as sale_lines,
        cast(0 as decimal(18, 2)) as recognized_revenue,
        cast(0 as decimal(18, 2)) as gross_margin,
        cast(0 as bigint) as points_earned,
        cast(0 as bigint) as points_redeemed,
        cast(consultations as bigint) as consultations,
        phone_masked,
        phone_seen_ts,
        email_masked,
        email_seen_ts,
        name_masked,
        name_seen_ts
    from contacts
)

select * from final
