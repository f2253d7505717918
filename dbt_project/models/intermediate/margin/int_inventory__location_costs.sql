{# One moving-average unit cost per snapshot date, location and sku. The extract repeats
    a location's cost on each of its batches; a test checks the batches agree. #}
with

snapshots as (
    select * from {{ ref('stg_inventory__snapshots') }}
    where {{ in_window('snapshot_date') }}
),

location_costs as (
    select
        snapshot_date,
        location_id,
        sku,
        max(unit_cost) as unit_cost,
        min(unit_cost) as lowest_batch_unit_cost,
        sum(on_hand_qty) as on_hand_qty
    from snapshots
    group by snapshot_date, location_id, sku
)

select * from location_costs
