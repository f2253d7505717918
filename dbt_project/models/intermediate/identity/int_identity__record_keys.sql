{# The customer of every record (sales order, consultation) that shows an identifier.
    A run resolves the records of its window, and the records of other dates whose
    customer's key it changed: a record's key is the least key of its identifiers, and
    every identifier of a record is one person's, so no other record's key can change.
    - A merge (the old key retired, all its identifiers gone to one key): the records
      holding the old key take the survivor's, found by key in this table, without
      reading the records' identifiers again.
    - A split (the old key still held, or gone to two keys): the records showing an
      identifier that moved are resolved again from their identifiers, which reads every
      record of history; a split is rare (a reviewer's decision, a corrected file), and
      the scan runs only when there is one.
    An identifier seen for the first time is shown by the window's records only (a record
    of another date showing it was resolved with it when that date ran). #}
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
    key_changes as (
        {{ identity_key_changes() }}
    ),

    scope as (
        select * from record_identifiers
        where {{ in_window('business_date') }}
        {%- if identity_keys_split_in_window() %}
            union all
            select record_identifiers.*
            from record_identifiers
            inner join (
                select distinct
                    record_source,
                    record_id
                from record_identifiers
                where
                    not {{ in_window('business_date') }}
                    and identifier in (
                        select key_changes.identifier from key_changes
                        where not key_changes.previous_key_retired
                    )
            ) as split_records
                on
                    record_identifiers.record_source = split_records.record_source
                    and record_identifiers.record_id = split_records.record_id
        {%- endif %}
    ),

    merged_records as (
        select
            known.record_source,
            known.record_id,
            known.business_date,
            merges.survivor_customer_key as customer_key,
            known.customer_keys_found
        from {{ this }} as known
        inner join (
            select
                previous_customer_key as retired_customer_key,
                min(customer_key) as survivor_customer_key
            from key_changes
            where previous_key_retired
            group by previous_customer_key
        ) as merges
            on known.customer_key = merges.retired_customer_key
        where not {{ in_window('known.business_date') }}
    ),
{% else %}
    scope as (
        select * from record_identifiers
    ),
{% endif %}

resolved as (
    select
        scope.record_source,
        scope.record_id,
        min(scope.business_date) as business_date,
        min(identifier_keys.customer_key) as customer_key,
        count(distinct identifier_keys.customer_key) as customer_keys_found
    from scope
    inner join identifier_keys on scope.identifier = identifier_keys.identifier
    group by scope.record_source, scope.record_id
),

final as (
    select * from resolved
    {%- if is_incremental() %}
        union all
        select * from merged_records
    {%- endif %}
)

select * from final
