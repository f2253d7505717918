{#- The partition window of this run, from the vars Dagster passes (inclusive). -#}
{% macro window_start() -%}
    cast('{{ var("start_date") }}' as date)
{%- endmacro %}

{% macro window_end() -%}
    cast('{{ var("end_date") }}' as date)
{%- endmacro %}

{#- Models whose figures depend on the whole month (marketing allocation by revenue share)
    recompute the whole months their window touches. -#}
{% macro month_window_start() -%}
    cast({{ dbt.date_trunc('month', window_start()) }} as date)
{%- endmacro %}

{% macro month_window_end() -%}
    cast({{ dbt.last_day(window_end(), 'month') }} as date)
{%- endmacro %}

{#- grain 'month': the whole months the window touches, first day to last; grain 'onward':
    the window's first day and every later one (running totals: a change moves every later
    figure). -#}
{% macro in_window(column, grain='day') -%}
    {%- if grain == 'onward' -%}
        {{ column }} >= {{ window_start() }}
    {%- elif grain == 'month' -%}
        {{ column }} between {{ month_window_start() }} and {{ month_window_end() }}
    {%- else -%}
        {{ column }} between {{ window_start() }} and {{ window_end() }}
    {%- endif -%}
{%- endmacro %}
