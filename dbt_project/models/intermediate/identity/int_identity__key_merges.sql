{# Customers found to be one person in a run: each retired key and its survivor. #}

with

changes as (
    {{ identity_key_changes() }}
),

final as (
    select
        previous_customer_key as retired_customer_key,
        min(customer_key) as survivor_customer_key,
        min(resolved_through) as merged_on,
        count(*) as identifiers_moved
    from changes
    where previous_key_retired
    group by previous_customer_key
)

select * from final
