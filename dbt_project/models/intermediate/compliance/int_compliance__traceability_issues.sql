{#
    One item, one code (一物一码) issues, one row per offending sale line:
    - DUPLICATE_CODE: a code sold while the unit it names was already sold (and not
      returned): every sale after the first;
    - MISSING_CODE: a traceable item sold without a code;
    - EXPIRED_BATCH: the code's batch (<batch_no>-<serial>) expired before the sale date.
#}
with

traceable_skus as (
    select sku from {{ ref('products') }}
    where is_traceable
),

window_lines as (
    select * from {{ ref('int_margin__order_lines') }}
    where
        {{ in_window('business_date') }}
        and sku in (select traceable_skus.sku from traceable_skus)
),


{# Every movement of the window's codes, over history: a sale takes the unit out, a
    return brings it back. #}
code_history as (
    select
        trace_code,
        order_id,
        line_no,
        order_ts,
        line_type,
        business_date
    from {{ ref('int_margin__order_lines') }}
    where trace_code in (
        select window_lines.trace_code from window_lines
        where window_lines.trace_code is not null
    )
),

units_out as (
    select
        *,
        coalesce(sum(case when line_type = 'SALE' then 1 else -1 end) over (
            partition by trace_code
            order by order_ts, order_id, line_no
            rows between unbounded preceding and 1 preceding
        ), 0) as units_out_before
    from code_history
),

batches as (
    select
        batch_no,
        min(expiry_date) as expiry_date
    from {{ ref('stg_inventory__snapshots') }}
    group by batch_no
),

coded as (
    select
        window_lines.*,
        {{ dbt.split_part('window_lines.trace_code', "'-'", 1) }} || '-'
        || {{ dbt.split_part('window_lines.trace_code', "'-'", 2) }} as batch_no
    from window_lines
    where window_lines.trace_code is not null and window_lines.line_type = 'SALE'
),

duplicates as (
    select
        coded.*,
        cast(null as date) as expiry_date,
        'DUPLICATE_CODE' as issue
    from coded
    inner join units_out
        on coded.order_id = units_out.order_id and coded.line_no = units_out.line_no
    where units_out.units_out_before >= 1
),

missing as (
    select
        window_lines.*,
        cast(null as varchar) as batch_no,
        cast(null as date) as expiry_date,
        'MISSING_CODE' as issue
    from window_lines
    where window_lines.trace_code is null and window_lines.line_type = 'SALE'
),

expired as (
    select
        coded.*,
        batches.expiry_date,
        'EXPIRED_BATCH' as issue
    from coded
    inner join batches on coded.batch_no = batches.batch_no
    where batches.expiry_date < coded.business_date
),

issues as (
    select * from duplicates
    union all
    select * from missing
    union all
    select * from expired
),

final as (
    select
        trace_code,
        order_id,
        line_no,
        sku,
        issue,
        business_date,
        store_id,
        batch_no,
        expiry_date
    from issues
)

select * from final
