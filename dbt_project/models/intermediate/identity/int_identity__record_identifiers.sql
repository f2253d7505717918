{#- Every identifier a customer record shows, as tokens: sales orders and consultations.
    Member numbers are brand-prefixed, so they are identifiers as they are. -#}
with

sales_records as (
    select distinct
        'sales' as record_source,
        order_id as record_id,
        business_date,
        customer_phone_token as phone_token,
        customer_email_token as email_token,
        customer_id_number_token as id_number_token,
        member_id
    from {{ ref('stg_sales__order_lines') }}
),

consultation_records as (
    select distinct
        'consultations' as record_source,
        consultation_id as record_id,
        business_date,
        patient_phone_token as phone_token,
        cast(null as varchar) as email_token,
        patient_id_number_token as id_number_token,
        member_id
    from {{ ref('stg_consultations__prescription_items') }}
),

records as (
    select * from sales_records
    union all
    select * from consultation_records
),

identifiers as (
    select record_source, record_id, business_date, 'phone' as identifier_type,
        'phone:' || phone_token as identifier
    from records where phone_token is not null
    union all
    select record_source, record_id, business_date, 'email', 'email:' || email_token
    from records where email_token is not null
    union all
    select record_source, record_id, business_date, 'id_number', 'id:' || id_number_token
    from records where id_number_token is not null
    union all
    select record_source, record_id, business_date, 'member', 'member:' || member_id
    from records where member_id is not null
),

final as (
    select distinct record_source, record_id, business_date, identifier_type, identifier
    from identifiers
)

select * from final
