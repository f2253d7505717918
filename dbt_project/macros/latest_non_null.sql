{#- The latest non-null value of a column in a group, by seen_ts (or the column named). -#}
{% macro latest_non_null(column, order_by='seen_ts') -%}
    {{ return(adapter.dispatch('latest_non_null', 'yecai')(column, order_by)) }}
{%- endmacro %}

{% macro default__latest_non_null(column, order_by) -%}
    {{ dbt.split_part(
        "max(case when " ~ column ~ " is not null then cast(" ~ order_by ~ " as varchar) || '|' || " ~ column ~ " end)",
        "'|'", 2) }}
{%- endmacro %}

{% macro duckdb__latest_non_null(column, order_by) -%}
    arg_max({{ column }}, {{ order_by }}) filter (where {{ column }} is not null)
{%- endmacro %}
