{#
    Margin per order line (订单行毛利): the line-level logic every margin, reconciliation,
    points, marketing and compliance model builds on (fct_sales_margin publishes it).
    Lines of the window are rebuilt; older lines keep their figures, and a customer merged
    into another moves to the survivor (post-hook), in the lines of closed months too
    (closed.fct_sales_margin: keys are not figures); the lines of a split customer take
    their order's key again.
#}
{{ config(post_hook=[
    "{% if is_incremental() %}{{ rekey_merged_customers(this) }}{% endif %}",
    "{% if is_incremental() %}{{ rekey_merged_customers(source('closed', 'fct_sales_margin')) }}{% endif %}",
    "{% if is_incremental() and splits_logged_in_window() %}{{ rekey_split_customers(this) }}{% endif %}",
    "{% if is_incremental() and splits_logged_in_window() %}{{ rekey_split_customers(source('closed', 'fct_sales_margin')) }}{% endif %}",
]) }}
-- depends_on: {{ ref('int_identity__key_merges') }}
-- depends_on: {{ ref('int_identity__key_splits') }}

with

sales_lines as (
    select * from {{ ref('stg_sales__order_lines') }}
    where {{ in_window('business_date') }}
),

products as (
    select
        sku,
        category
    from {{ ref('products') }}
),

customers as (
    select
        record_id as order_id,
        customer_key
    from {{ ref('int_identity__record_keys') }}
    where record_source = 'sales'
),

store_costs as (
    select
        location_id,
        sku,
        snapshot_date as store_snapshot_date,
        unit_cost as store_unit_cost
    from {{ ref('int_inventory__location_costs') }}
    where snapshot_date <= {{ window_end() }}
),

group_costs as (
    select
        sku,
        snapshot_date as group_snapshot_date,
        unit_cost as group_unit_cost
    from {{ ref('int_inventory__group_costs') }}
    where snapshot_date <= {{ window_end() }}
),


{# cost rule: the latest snapshot at or before the business date for the
    (store, sku), else the group-wide latest cost of the sku, else MISSING. #}
with_store_cost as (
    {{ asof_left_join(
        'sales_lines', 'store_costs',
        ['store_id', 'sku'], ['location_id', 'sku'],
        'business_date', 'store_snapshot_date',
        ['store_unit_cost'], ['order_id', 'line_no']) }}
),

with_group_cost as (
    {{ asof_left_join(
        'with_store_cost', 'group_costs',
        ['sku'], ['sku'],
        'business_date', 'group_snapshot_date',
        ['group_unit_cost'], ['order_id', 'line_no']) }}
),

signed as (
    select
        costed_lines.*,
        {{ line_sign('costed_lines.line_type') }} as sign,
        products.category,
        customers.customer_key,
        coalesce(costed_lines.store_unit_cost, costed_lines.group_unit_cost) as resolved_unit_cost,
        case
            when costed_lines.store_unit_cost is not null then 'STORE_SNAPSHOT'
            when costed_lines.group_unit_cost is not null then 'GROUP_LATEST'
            else 'MISSING'
        end as cost_source
    from with_group_cost as costed_lines
    left join products on costed_lines.sku = products.sku
    left join customers on costed_lines.order_id = customers.order_id
),

amounts as (
    select
        order_id,
        line_no,
        business_date,
        order_ts,
        brand_code,
        channel_code,
        store_id,
        customer_key,
        sku,
        category,
        line_type,
        payment_status,
        campaign_id,
        prescription_id,
        trace_code,
        cost_source,
        cast(sign * quantity as integer) as quantity,
        unit_price,
        cast(sign * quantity * unit_price as decimal(18, 2)) as gross_sales,
        cast(sign * discount_amount as decimal(18, 2)) as discount_amount,
        cast(sign * {{ points_value('points_redeemed') }} as decimal(18, 2))
            as points_redeemed_value,
        cast(sign * {{ points_value('points_earned') }} as decimal(18, 2)) as points_earned_value,
        cast(sign * net_amount as decimal(18, 2)) as net_amount,
        cast(sign * tax_amount as decimal(18, 2)) as tax_amount,
        cast(resolved_unit_cost as decimal(18, 4)) as unit_cost,
        cast(round(sign * quantity * coalesce(resolved_unit_cost, 0), 2) as decimal(18, 2)) as cogs
    from signed
),

final as (
    select
        order_id,
        line_no,
        business_date,
        order_ts,
        brand_code,
        channel_code,
        store_id,
        customer_key,
        sku,
        category,
        line_type,
        quantity,
        unit_price,
        gross_sales,
        discount_amount,
        points_redeemed_value,
        points_earned_value,
        cast(gross_sales - discount_amount - points_earned_value as decimal(18, 2))
            as recognized_revenue,
        unit_cost,
        cogs,
        cast(gross_sales - discount_amount - points_earned_value - cogs as decimal(18, 2))
            as gross_margin,
        cost_source,
        campaign_id,
        prescription_id,
        trace_code,
        payment_status,
        net_amount,
        tax_amount
    from amounts
)

select * from final
