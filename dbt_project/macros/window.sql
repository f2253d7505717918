{#- The partition window of this run, from the vars Dagster passes (inclusive). -#}
{% macro window_start() -%}
    cast('{{ var("start_date") }}' as date)
{%- endmacro %}

{% macro window_end() -%}
    cast('{{ var("end_date") }}' as date)
{%- endmacro %}

{#- First day of the window's first month: models whose figures depend on the whole month
    (marketing allocation by revenue share) recompute from there (look-back). -#}
{% macro month_window_start() -%}
    cast({{ dbt.date_trunc('month', window_start()) }} as date)
{%- endmacro %}

{% macro in_window(column, grain='day') -%}
    {{ column }} between {{ month_window_start() if grain == 'month' else window_start() }}
        and {{ window_end() }}
{%- endmacro %}
