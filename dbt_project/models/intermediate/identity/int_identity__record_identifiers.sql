{# Every identifier a customer record shows, as tokens. Member numbers are brand-prefixed,
    so they are identifiers as they are. #}
with

records as (
    select * from {{ ref('int_identity__records') }}
),

identifiers as (
    select
        record_source,
        record_id,
        business_date,
        'phone' as identifier_type,
        'phone:' || phone_token as identifier
    from records
    where phone_token is not null
    union all
    select
        record_source,
        record_id,
        business_date,
        'email' as identifier_type,
        'email:' || email_token as identifier
    from records
    where email_token is not null
    union all
    select
        record_source,
        record_id,
        business_date,
        'id_number' as identifier_type,
        'id:' || id_number_token as identifier
    from records
    where id_number_token is not null
    union all
    select
        record_source,
        record_id,
        business_date,
        'member' as identifier_type,
        'member:' || member_id as identifier
    from records
    where member_id is not null
)

select * from identifiers
