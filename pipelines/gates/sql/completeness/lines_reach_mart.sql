-- Loaded sale lines of the window missing from the line-level margin.
with

marts_lines as (
    select
        order_id,
        line_no
    from {{ batch }}
)

select
    staged.order_id,
    staged.line_no
from {{ ref('stg_sales__order_lines') }} as staged
where
    {{ window.sql('staged.business_date') }}
    and not exists (
        select 1 as reached
        from marts_lines
        where
            marts_lines.order_id = staged.order_id
            and marts_lines.line_no = staged.line_no
    )
