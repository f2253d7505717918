{# Customers found to be one person in a run: each retired key and its survivor. #}

with

changes as (
    select * from {{ ref('int_identity__identifier_keys') }}
    where
        resolved_through = {{ window_end() }}
        and previous_customer_key is not null
        and previous_customer_key <> customer_key
),

final as (
    select
        previous_customer_key as retired_customer_key,
        min(customer_key) as survivor_customer_key,
        min(resolved_through) as merged_on,
        count(*) as identifiers_moved
    from changes
    group by previous_customer_key
)

select * from final
