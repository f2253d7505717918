{#- A customer's key: a hash of their anchor identifier (first seen date | identifier).
    The anchor is itself a token, so the key reveals nothing. -#}
{% macro customer_key_of(anchor) -%}
    case when {{ anchor }} is not null
        then 'C' || upper(substr({{ dbt.hash(anchor) }}, 1, 16))
    end
{%- endmacro %}

{#- The brand of a member number: its letters (KDKM000123 → KDKM). A person holds one
    number per brand, so two numbers of one brand are two people. -#}
{% macro member_brand(member_id) -%}
    trim(trailing '0123456789' from {{ member_id }})
{%- endmacro %}
