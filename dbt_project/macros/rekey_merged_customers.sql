{#- After identity resolution merged customers, lines outside this run's window still
    carry the retired key: move them to the survivor. Merges chain (A → B, later B → C),
    so earlier merges were applied by earlier runs. -#}
{% macro rekey_merged_customers(relation) -%}
    update {{ relation }}
    set customer_key = merges.survivor_customer_key
    from {{ ref('int_identity__key_merges') }} as merges
    where {{ relation }}.customer_key = merges.retired_customer_key
{%- endmacro %}
