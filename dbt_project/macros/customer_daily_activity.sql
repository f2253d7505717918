{#- The rows of int_customer__daily_activity (see the model) for the order lines, point
    movements and records `scope(date_column, customer_column)` keeps: a SQL condition.
    The model builds its window's dates with it; after a split, the split customers' rows
    of other dates are rebuilt with it (rebuild_split_customers_activity). -#}
{% macro customer_daily_activity_rows(scope) -%}
with

order_lines as (
    select * from {{ ref('int_margin__order_lines') }}
    where {{ scope('business_date', 'customer_key') }}
),

movements as (
    select * from {{ ref('int_points__movements') }}
    where {{ scope('business_date', 'customer_key') }}
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
    where {{ scope('records.business_date', 'record_keys.customer_key') }}
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
{%- endmacro %}

{#- Conditions for customer_daily_activity_rows. -#}
{% macro activity_in_window(date_column, customer_column) -%}
    {{ in_window(date_column) }}
{%- endmacro %}

{% macro activity_everything(date_column, customer_column) -%}
    true
{%- endmacro %}

{% macro activity_of_split_customers(date_column, customer_column) -%}
    not {{ in_window(date_column) }}
    and {{ customer_column }} in ({{ split_customer_keys() }})
{%- endmacro %}

{#- Every key involved in a split the run of this window logged: the split key and the
    keys its parts moved to. -#}
{% macro split_customer_keys() -%}
    select split_customer_key from {{ ref('int_identity__key_splits') }}
    where {{ in_window('split_on') }}
    union all
    select new_customer_key from {{ ref('int_identity__key_splits') }}
    where {{ in_window('split_on') }}
{%- endmacro %}

{#- Whether the run of this window logged a split: only then do the post-hooks re-key
    lines and rebuild activity of other dates (each reads all history). -#}
{% macro splits_logged_in_window() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(finds_rows(split_customer_keys())) }}
{%- endmacro %}

{#- After a split, rows of other dates of the split customers hold lines and records that
    now belong to another key: they are built again from the re-keyed lines and records. -#}
{% macro rebuild_split_customers_activity(relation) -%}
    delete from {{ relation }}
    where {{ activity_of_split_customers(relation ~ '.business_date', relation ~ '.customer_key') }};
    insert into {{ relation }}
    {{ customer_daily_activity_rows(activity_of_split_customers) }}
{%- endmacro %}
