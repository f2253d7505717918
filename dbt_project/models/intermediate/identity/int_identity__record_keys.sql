{# The customer of every record (sales order, consultation) that shows an identifier.
    A run resolves the records of its window and every record, whatever its date, showing
    an identifier this run gave a new key (a merge) or saw for the first time: a record's
    key is the least key of its identifiers, so no other record's key can change. #}
with

identifier_keys as (
    select
        identifier,
        customer_key,
        previous_customer_key,
        resolved_through
    from {{ ref('int_identity__identifier_keys') }}
),

record_identifiers as (
    select * from {{ ref('int_identity__record_identifiers') }}
),

{% if is_incremental() %}
    touched_records as (
        select distinct
            record_source,
            record_id
        from record_identifiers
        where
            {{ in_window('business_date') }}
            or identifier in (
                select identifier_keys.identifier from identifier_keys
                where
                    identifier_keys.resolved_through = {{ window_end() }}
                    and (
                        identifier_keys.previous_customer_key is null
                        or identifier_keys.previous_customer_key <> identifier_keys.customer_key
                    )
            )
    ),

    scope as (
        select record_identifiers.*
        from record_identifiers
        inner join touched_records
            on
                record_identifiers.record_source = touched_records.record_source
                and record_identifiers.record_id = touched_records.record_id
    ),
{% else %}
    scope as (
        select * from record_identifiers
    ),
{% endif %}

final as (
    select
        scope.record_source,
        scope.record_id,
        min(scope.business_date) as business_date,
        min(identifier_keys.customer_key) as customer_key,
        count(distinct identifier_keys.customer_key) as customer_keys_found
    from scope
    inner join identifier_keys on scope.identifier = identifier_keys.identifier
    group by scope.record_source, scope.record_id
)

select * from final
