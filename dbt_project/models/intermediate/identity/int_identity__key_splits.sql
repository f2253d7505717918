{# Customers a run split (客户拆分: a reviewer's "different", or a re-run without the
    record that joined two people): each split key, a key some of its identifiers moved
    to, and how many. The side holding the split key's anchor keeps the key. #}

with

changes as (
    {{ identity_key_changes() }}
),

final as (
    select
        previous_customer_key as split_customer_key,
        customer_key as new_customer_key,
        min(resolved_through) as split_on,
        count(*) as identifiers_moved
    from changes
    where not previous_key_retired
    group by previous_customer_key, customer_key
)

select * from final
