-- Prescription-drug sale lines of the window neither proven compliant nor listed as a
-- violation. "Compliant" is recomputed here, apart from the mart that lists violations;
-- units dispensed count every earlier line of the prescription, in or before the window.
with

marts_lines as (
    select * from {{ batch }}
),

lines as (
    select * from marts_lines
    where
        line_type = 'SALE'
        and {{ window.sql('business_date') }}
        and sku in (
            select products.sku from {{ ref('products') }} as products
            where products.is_rx
        )
),

items as (
    select * from {{ ref('int_compliance__prescription_items') }}
),

dispensed as (
    select
        order_id,
        line_no,
        sum(quantity) over (
            partition by prescription_id, sku
            order by order_ts, order_id, line_no
            rows between unbounded preceding and current row
        ) as units
    from {{ ref('int_margin__order_lines') }}
    where
        line_type = 'SALE'
        and prescription_id in (select lines.prescription_id from lines)
),

compliant as (
    select
        lines.order_id,
        lines.line_no
    from lines
    inner join items
        on
            lines.prescription_id = items.prescription_id
            and lines.sku = items.sku
    inner join dispensed
        on
            lines.order_id = dispensed.order_id
            and lines.line_no = dispensed.line_no
    inner join {{ ref('stores') }} as stores on lines.store_id = stores.store_id
    where
        items.issued_ts <= lines.order_ts
        and lines.business_date <= items.rx_valid_until
        and dispensed.units <= items.rx_max_qty
        and lines.business_date
        between stores.license_valid_from and stores.license_valid_to
)

select
    lines.order_id,
    lines.line_no
from lines
where
    (lines.order_id, lines.line_no) not in (
        select
            compliant.order_id,
            compliant.line_no
        from compliant
    )
    and (lines.order_id, lines.line_no) not in (
        select
            violations.order_id,
            violations.line_no
        from {{ ref('int_compliance__rx_violations') }} as violations
    )
