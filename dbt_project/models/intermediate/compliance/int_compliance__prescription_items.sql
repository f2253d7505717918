{# Prescribed items (处方明细) of all consultations so far: what each prescription allows. #}
with

items as (
    select * from {{ ref('stg_consultations__prescription_items') }}
    where prescription_id is not null
),

final as (
    select
        prescription_id,
        rx_sku as sku,
        min(rx_line_no) as rx_line_no,
        min(consult_ts) as issued_ts,
        min(rx_valid_until) as rx_valid_until,
        sum(rx_max_qty) as rx_max_qty
    from items
    group by prescription_id, rx_sku
)

select * from final
