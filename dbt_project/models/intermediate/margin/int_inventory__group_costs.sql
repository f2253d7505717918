{# The group-wide cost of a sku on a snapshot date: the cost at the location holding the
    most stock that day (ties: the first location_id), a real moving-average cost rather
    than a computed average, so it stays an exact DECIMAL. #}
with

location_costs as (
    select * from {{ ref('int_inventory__location_costs') }}
    where {{ in_window('snapshot_date') }}
),

ranked as (
    select
        snapshot_date,
        sku,
        unit_cost,
        row_number() over (
            partition by snapshot_date, sku
            order by on_hand_qty desc, location_id asc
        ) as stock_rank
    from location_costs
),

group_costs as (
    select
        snapshot_date,
        sku,
        unit_cost
    from ranked
    where stock_rank = 1
)

select * from group_costs
