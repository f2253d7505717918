{#- After identity resolution merged customers, lines outside this run's window still
    carry the retired key: move them to the survivor. Merges chain (A → B, later B → C),
    so earlier merges were applied by earlier runs; only this window's are applied, as a
    split may later give a retired key back to the side of the customer it named. -#}
{% macro rekey_merged_customers(relation) -%}
    update {{ relation }}
    set customer_key = merges.survivor_customer_key
    from {{ ref('int_identity__key_merges') }} as merges
    where
        {{ relation }}.customer_key = merges.retired_customer_key
        and {{ in_window('merges.merged_on') }}
{%- endmacro %}

{#- After a split, lines of other dates of the split customer still carry its key: each
    takes its order's key again (int_identity__record_keys re-keyed the records that
    moved). Keys are not figures: closed lines follow too. -#}
{% macro rekey_split_customers(relation) -%}
    update {{ relation }}
    set customer_key = record_keys.customer_key
    from {{ ref('int_identity__record_keys') }} as record_keys
    where
        record_keys.record_source = 'sales'
        and {{ relation }}.order_id = record_keys.record_id
        and {{ relation }}.customer_key <> record_keys.customer_key
        and {{ relation }}.customer_key in ({{ split_customer_keys() }})
{%- endmacro %}
