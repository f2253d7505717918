{# Customers found to be one person in a run: each retired key and its survivor. A re-run
    of the window replaces the window's merges: it keeps the ones its first attempt found
    whose key is still retired (the re-run finds those people one already, so sees no
    change), and drops the ones it undid (the key is in use again). #}

with

changes as (
    {{ identity_key_changes() }}
),

merged_now as (
    select
        previous_customer_key as retired_customer_key,
        min(customer_key) as survivor_customer_key,
        min(resolved_through) as merged_on,
        count(*) as identifiers_moved
    from changes
    where previous_key_retired
    group by previous_customer_key
),

{% if is_incremental() %}
    merged_before as (
        select
            retired_customer_key,
            survivor_customer_key,
            merged_on,
            identifiers_moved
        from {{ this }}
        where
            {{ in_window('merged_on') }}
            and retired_customer_key not in (
                select merged_now.retired_customer_key from merged_now
            )
            and retired_customer_key not in (
                select held.customer_key
                from {{ ref('int_identity__identifier_keys') }} as held
            )
    ),
{% else %}
    merged_before as (
        select * from merged_now
        where false
    ),
{% endif %}

final as (
    select * from merged_now
    union all
    select * from merged_before
)

select * from final
