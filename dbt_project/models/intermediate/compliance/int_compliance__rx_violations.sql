{#
    Prescription-drug sale lines that break a dispensing rule (处方药合规), one row per line
    and broken rule:
    - NO_PRESCRIPTION: no prescription_id on the line;
    - UNKNOWN_PRESCRIPTION: no consultation issued it before the sale;
    - SKU_NOT_PRESCRIBED: the prescription does not list the sku;
    - PRESCRIPTION_EXPIRED: sold after the prescription's last valid day;
    - QUANTITY_EXCEEDED: this line takes the units dispensed on the prescription item
      (across all sales so far) above the prescribed maximum;
    - PHARMACY_LICENSE_INVALID: the store had no valid drug licence on the sale date.
    Prescriptions come from consultations on any earlier date: history, not the window.
#}
with

rx_skus as (
    select sku from {{ ref('products') }}
    where is_rx
),

sales_lines as (
    select * from {{ ref('int_margin__order_lines') }}
    where line_type = 'SALE' and sku in (select rx_skus.sku from rx_skus)
),

window_lines as (
    select * from sales_lines
    where {{ in_window('business_date') }}
),

prescriptions as (
    select
        prescription_id,
        min(issued_ts) as issued_ts
    from {{ ref('int_compliance__prescription_items') }}
    group by prescription_id
),

items as (
    select * from {{ ref('int_compliance__prescription_items') }}
),


{# Units dispensed per prescription item up to and including each line, over history. #}
dispensed as (
    select
        order_id,
        line_no,
        sum(quantity) over (
            partition by prescription_id, sku
            order by order_ts, order_id, line_no
            rows between unbounded preceding and current row
        ) as units_dispensed
    from sales_lines
    where prescription_id in (select window_lines.prescription_id from window_lines)
),

stores as (
    select
        store_id,
        license_valid_from,
        license_valid_to
    from {{ ref('stores') }}
),

checked as (
    select
        rx_lines.order_id,
        rx_lines.line_no,
        rx_lines.business_date,
        rx_lines.store_id,
        rx_lines.sku,
        rx_lines.prescription_id,
        rx_lines.quantity,
        prescriptions.prescription_id is not null
        and prescriptions.issued_ts <= rx_lines.order_ts as prescription_known,
        items.sku is not null as sku_prescribed,
        items.rx_valid_until,
        items.rx_max_qty,
        dispensed.units_dispensed,
        stores.license_valid_from is not null
        and rx_lines.business_date between stores.license_valid_from
        and stores.license_valid_to as license_valid
    from window_lines as rx_lines
    left join prescriptions on rx_lines.prescription_id = prescriptions.prescription_id
    left join items on rx_lines.prescription_id = items.prescription_id and rx_lines.sku = items.sku
    left join
        dispensed
        on rx_lines.order_id = dispensed.order_id and rx_lines.line_no = dispensed.line_no
    left join stores on rx_lines.store_id = stores.store_id
),

violations as (
    select
        *,
        'NO_PRESCRIPTION' as reason
    from checked
    where prescription_id is null
    union all
    select
        *,
        'UNKNOWN_PRESCRIPTION' as reason
    from checked
    where prescription_id is not null and not prescription_known
    union all
    select
        *,
        'SKU_NOT_PRESCRIBED' as reason
    from checked
    where prescription_known and not sku_prescribed
    union all
    select
        *,
        'PRESCRIPTION_EXPIRED' as reason
    from checked
    where prescription_known and sku_prescribed and business_date > rx_valid_until
    union all
    select
        *,
        'QUANTITY_EXCEEDED' as reason
    from checked
    where prescription_known and sku_prescribed and units_dispensed > rx_max_qty
    union all
    select
        *,
        'PHARMACY_LICENSE_INVALID' as reason
    from checked
    where not license_valid
),

final as (
    select
        order_id,
        line_no,
        business_date,
        store_id,
        sku,
        prescription_id,
        reason,
        cast(quantity as integer) as quantity,
        rx_valid_until,
        cast(rx_max_qty as integer) as rx_max_qty
    from violations
)

select * from final
