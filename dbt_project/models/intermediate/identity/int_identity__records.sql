{# One row per customer record (sales order, consultation): its identifier tokens and the
    masked contact it shows. Incremental: staging reads the whole lake, this keeps it. #}
with

sales_records as (
    select
        'sales' as record_source,
        order_id as record_id,
        min(business_date) as business_date,
        min(order_ts) as seen_ts,
        min(customer_phone_token) as phone_token,
        min(customer_email_token) as email_token,
        min(customer_name_token) as name_token,
        min(customer_id_number_token) as id_number_token,
        {{ dbt.bool_or('customer_id_number_valid') }} as id_number_valid,
        min(member_id) as member_id,
        min(customer_phone_masked) as phone_masked,
        min(customer_email_masked) as email_masked,
        min(customer_name_masked) as name_masked,
        min(customer_id_number_masked) as id_number_masked
    from {{ ref('stg_sales__order_lines') }}
    where {{ in_window('business_date') }}
    group by order_id
),

consultation_records as (
    select
        'consultations' as record_source,
        consultation_id as record_id,
        min(business_date) as business_date,
        min(consult_ts) as seen_ts,
        min(patient_phone_token) as phone_token,
        cast(null as varchar) as email_token,
        min(patient_name_token) as name_token,
        min(patient_id_number_token) as id_number_token,
        {{ dbt.bool_or('patient_id_number_valid') }} as id_number_valid,
        min(member_id) as member_id,
        min(patient_phone_masked) as phone_masked,
        cast(null as varchar) as email_masked,
        min(patient_name_masked) as name_masked,
        min(patient_id_number_masked) as id_number_masked
    from {{ ref('stg_consultations__prescription_items') }}
    where {{ in_window('business_date') }}
    group by consultation_id
),

final as (
    select * from sales_records
    union all
    select * from consultation_records
)

select * from final
