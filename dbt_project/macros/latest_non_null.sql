{#- The latest non-null value of a column in a group (by seen_ts). -#}
{% macro latest_non_null(column) -%}
    {{ return(adapter.dispatch('latest_non_null', 'yecai')(column)) }}
{%- endmacro %}

{% macro default__latest_non_null(column) -%}
    {{ dbt.split_part(
        "max(case when " ~ column ~ " is not null then cast(seen_ts as varchar) || '|' || " ~ column ~ " end)",
        "'|'", 2) }}
{%- endmacro %}

{% macro duckdb__latest_non_null(column) -%}
    arg_max({{ column }}, seen_ts) filter (where {{ column }} is not null)
{%- endmacro %}
