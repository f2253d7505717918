{# The customer of every record (sales order, consultation) that shows an identifier. #}
with

record_identifiers as (
    select * from {{ ref('int_identity__record_identifiers') }}
),

identifier_keys as (
    select
        identifier,
        customer_key
    from {{ ref('int_identity__identifier_keys') }}
),

final as (
    select
        record_identifiers.record_source,
        record_identifiers.record_id,
        min(record_identifiers.business_date) as business_date,
        min(identifier_keys.customer_key) as customer_key,
        count(distinct identifier_keys.customer_key) as customer_keys_found
    from record_identifiers
    inner join identifier_keys on record_identifiers.identifier = identifier_keys.identifier
    group by record_identifiers.record_source, record_identifiers.record_id
)

select * from final
