{#- The partition window of this run, from the vars Dagster passes (inclusive). -#}
{% macro window_start() -%}
    cast('{{ var("start_date") }}' as date)
{%- endmacro %}

{% macro window_end() -%}
    cast('{{ var("end_date") }}' as date)
{%- endmacro %}

{% macro in_window(column) -%}
    {{ column }} between {{ window_start() }} and {{ window_end() }}
{%- endmacro %}
