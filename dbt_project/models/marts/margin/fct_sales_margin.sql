{# Margin per order line (订单行毛利), as analysts drill into it: the intermediate that the
    other marts build on, published under the name analysts ask for. #}
with

order_lines as (
    select * from {{ ref('int_margin__order_lines') }}
),

final as (
    select * from order_lines
)

select * from final
