{#- A customer's key: a hash of their anchor identifier (first seen date | identifier).
    The anchor is itself a token, so the key reveals nothing. -#}
{% macro customer_key_of(anchor) -%}
    case when {{ anchor }} is not null
        then 'C' || upper(substr({{ dbt.hash(anchor) }}, 1, 16))
    end
{%- endmacro %}
