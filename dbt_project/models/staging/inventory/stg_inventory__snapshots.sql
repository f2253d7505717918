with

source as (
    select * from {{ lake_source('inventory', 'lake_raw') }}
),

renamed as (
    select
        snapshot_date,
        business_date,
        location_id,
        sku,
        batch_no,
        expiry_date,
        on_hand_qty,
        unit_cost,
        _source_file as source_file,
        _source_row_number as source_row_number
    from source
)

select * from renamed
