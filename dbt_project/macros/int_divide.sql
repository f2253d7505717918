{#- Integer division rounding down, for exact allocations in cents. -#}
{% macro int_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('int_divide', 'yecai')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__int_divide(numerator, denominator) -%}
    cast(floor(({{ numerator }}) / ({{ denominator }})) as bigint)
{%- endmacro %}

{% macro duckdb__int_divide(numerator, denominator) -%}
    (({{ numerator }}) // ({{ denominator }}))
{%- endmacro %}

{% macro to_cents(amount) -%}
    cast(({{ amount }}) * 100 as bigint)
{%- endmacro %}

{% macro from_cents(cents) -%}
    cast(cast({{ cents }} as decimal(20, 0)) * 0.01 as decimal(18, 2))
{%- endmacro %}
