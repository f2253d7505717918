{#- The accounting period (YYYY-MM) of a date, as the seeds write it. -#}
{% macro period_of(day) -%}
    {{ return(adapter.dispatch('period_of', 'yecai')(day)) }}
{%- endmacro %}

{% macro default__period_of(day) -%}
    substring(cast({{ day }} as varchar(10)), 1, 7)
{%- endmacro %}
