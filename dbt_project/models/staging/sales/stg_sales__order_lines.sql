with

source as (
    select * from {{ lake_source('sales', 'lake_raw') }}
),

renamed as (
    select
        order_id,
        cast(line_no as integer) as line_no,
        business_date,
        order_ts,
        brand_code,
        channel_code,
        store_id,
        member_id,
        customer_phone_token,
        customer_phone_masked,
        customer_email_token,
        customer_email_masked,
        customer_name_token,
        customer_name_masked,
        customer_id_number_token,
        customer_id_number_masked,
        customer_id_number_valid,
        sku,
        line_type,
        quantity,
        unit_price,
        discount_amount,
        points_redeemed,
        points_earned,
        net_amount,
        tax_amount,
        payment_status,
        prescription_id,
        trace_code,
        campaign_id,
        _source_file as source_file,
        _source_row_number as source_row_number
    from source
)

select * from renamed
