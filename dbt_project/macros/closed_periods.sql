{#-
    Period close (月结). A mart whose figures belong to a month names its column in
    meta.period_column; its model is then a view over what is built from everything known
    now (the "as built" intermediate) that shows each month closed now as it was closed:

    - rows of open months: as built (those meta.as_built_where keeps, if it says);
    - rows of closed months: the rows frozen at the close (`closed.<mart>`, written by
      `yecai close-period`; customer keys follow merges, amounts never move);
    - in a mart with an `is_adjustment` column: one adjustment row per closed month and
      adjustment grain (meta.adjustment_grain, default brand_code), dated the first day
      of the first open month after it, carrying what late data changed in the measures
      (meta.measures, summed; meta.balances, the month-end value) that no closed month
      carries yet.

    The differences themselves are computed once per run, for every closing mart, by
    int_finance__period_differences (period_differences below); the views only pivot
    them, so reading a mart never aggregates closed history.
-#}

{#- Each period closed now, with the event of its close. -#}
{% macro current_closes() -%}
    select
        period,
        event_id,
        done_at
    from (
        select
            period,
            event_id,
            action,
            done_at,
            row_number() over (partition by period order by done_at desc) as latest
        from {{ source('audit', 'period_events') }}
    ) as events
    where latest = 1 and action = 'CLOSE'
{%- endmacro %}

{#- Each closed period's carry month: the first open month after it. Closed months run in
    stretches, so it is the month after the period or after a later closed month. -#}
{% macro carry_months(closes) -%}
    select
        closed.period,
        min(candidates.period) as carried_into
    from {{ closes }} as closed
    inner join (
        select {{ period_of(dbt.dateadd('month', 1, "cast(period || '-01' as date)")) }} as period
        from {{ closes }}
    ) as candidates
        on candidates.period > closed.period
    where candidates.period not in (select closes_now.period from {{ closes }} as closes_now)
    group by closed.period
{%- endmacro %}

{#- The closing mart `name`'s node: its meta and columns. -#}
{% macro closing_mart(name) -%}
    {{ return(graph.nodes['model.yecai.' ~ name]) }}
{%- endmacro %}

{% macro adjustment_grain(node) -%}
    {%- set default = ['brand_code'] if 'brand_code' in node.columns else [] -%}
    {{ return(node.config.meta.get('adjustment_grain', default)) }}
{%- endmacro %}

{% macro is_adjusted(node) -%}
    {{ return('is_adjustment' in node.columns) }}
{%- endmacro %}

{#- The columns a mart's as-built model has: all but the adjustment columns. -#}
{% macro as_built_columns(node) -%}
    {{ return(node.columns.keys() | reject('in', adjustment_columns()) | list) }}
{%- endmacro %}

{#- The as-built rows a closing mart shows: all, or those meta.as_built_where keeps. -#}
{% macro as_built_rows(node) -%}
    {{ return(node.config.meta.get('as_built_where', 'true')) }}
{%- endmacro %}

{% macro adjustment_columns() -%}
    {{ return(['is_adjustment', 'adjusts_period', 'adjustment_files', 'adjustment_runs']) }}
{%- endmacro %}

{#- What analysts see of a closing mart (the model calling it): see the top of this file. -#}
{% macro closed_period_mart(as_built) -%}
    {%- set frozen = source('closed', this.identifier) -%}
    {%- if not execute -%}
        {{ return('select 1 as parsed') }}  {#- the graph, meta and columns come later -#}
    {%- endif -%}
    {%- set node = closing_mart(this.identifier) -%}
    {%- set period_column = node.config.meta.period_column -%}
    {%- set built = as_built_columns(node) -%}
    {%- set adjusted = is_adjusted(node) -%}
    with

    closes as (
        {{ current_closes() }}
    ),

    as_built as (
        select
            {%- for column in node.columns %}
            {%- if column in built %}
            {{ column }}
            {%- elif column == 'is_adjustment' %}
            false as is_adjustment
            {%- else %}
            cast(null as varchar) as {{ column }}
            {%- endif %}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ as_built }}
        where
            {{ period_of(period_column) }} not in (select closes.period from closes)
            and ({{ as_built_rows(node) }})
    ),

    frozen as (
        select
            {%- for column in node.columns %}
            frozen_rows.{{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from {{ frozen }} as frozen_rows
        inner join closes on frozen_rows.close_event_id = closes.event_id
    ){{ "," if adjusted }}

    {%- if adjusted %}

    adjustments as (
        {{ adjustment_rows(node, closes='closes') }}
    )
    {%- endif %}

    select
        {%- for column in node.columns %}
        {{ column }}{{ "," if not loop.last }}
        {%- endfor %}
    from as_built
    union all
    select * from frozen
    {%- if adjusted %}
    union all
    select * from adjustments
    {%- endif %}
{%- endmacro %}

{#- A closing mart's adjustment rows: the carried differences of its closed months pivoted
    back to its columns (measures by name, other figures null or meta.adjustment_values). -#}
{% macro adjustment_rows(node, closes) -%}
    {%- set grain = adjustment_grain(node) -%}
    {%- set measures = node.config.meta.measures + node.config.meta.get('balances', []) -%}
    {%- set fixed = node.config.meta.get('adjustment_values', {}) -%}
    {%- set item = grain[1] if grain | length > 1 else none -%}
    select
        {%- for column, spec in node.columns.items() %}
        {%- if column == node.config.meta.period_column %}
        cast(carry.carried_into || '-01' as date) as {{ column }}
        {%- elif column == grain[0] %}
        differences.brand_code as {{ column }}
        {%- elif column == item %}
        differences.item as {{ column }}
        {%- elif column in measures %}
        cast(coalesce(
            sum(case when differences.measure = '{{ column }}' then differences.adjustment_amount end),
            0
        ) as {{ spec.data_type }}) as {{ column }}
        {%- elif column in fixed %}
        '{{ fixed[column] }}' as {{ column }}
        {%- elif column == 'is_adjustment' %}
        true as is_adjustment
        {%- elif column in adjustment_columns() %}
        differences.{{ column }}
        {%- else %}
        cast(null as {{ spec.data_type }}) as {{ column }}
        {%- endif %}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('int_finance__period_differences') }} as differences
    inner join {{ closes }} as closes
        on differences.adjusts_period = closes.period and differences.close_event_id = closes.event_id
    inner join ({{ carry_months(closes) }}) as carry on differences.adjusts_period = carry.period
    where differences.mart = '{{ node.name }}' and differences.is_carried
    group by
        carry.carried_into,
        differences.adjusts_period,
        differences.brand_code,
        differences.item,
        differences.adjustment_files,
        differences.adjustment_runs
{%- endmacro %}

{#- The differences between what closing mart `name` holds for each month of `months`
    (closed now; `closes`: every close now, whose frozen rows may carry them) as built (`current`) and as closed (`closed`: the frozen rows, plus the adjustment rows
    for it that later closed months already carry), per adjustment grain and measure:
    the long rows of int_finance__period_differences. Measures are summed; balances
    (meta.balances) are the month-end value. Each month also gets its row count as built
    and as closed (measure row_count, whole month: brand and item empty), listed, never
    carried, and kept even when equal: it records that the month was compared. -#}
{% macro period_differences(name, as_built, frozen, closes, months) -%}
    {%- if not execute -%}
        {{ return('select 1 as parsed') }}
    {%- endif -%}
    {%- set node = closing_mart(name) -%}
    {%- set period_column = node.config.meta.period_column -%}
    {%- set grain = adjustment_grain(node) -%}
    {%- set measures = node.config.meta.measures -%}
    {%- set balances = node.config.meta.get('balances', []) -%}
    {%- set figures = measures + balances -%}
    {%- set adjusted = is_adjusted(node) -%}
    {%- set brand = grain[0] if grain else 'cast(null as varchar)' -%}
    {%- set item = grain[1] if grain | length > 1 else 'cast(null as varchar)' -%}
    {#- a frozen row that is an adjustment row carries another month's difference -#}
    {%- set carried_row = 'frozen_rows.is_adjustment' if adjusted else 'false' -%}
    select
        '{{ name }}' as mart,
        adjusts_period,
        brand_code,
        item,
        measure,
        cast(sum(case when side = 'current' then amount else 0 end) as decimal(18, 2))
            as current_amount,
        cast(sum(case when side = 'current' then 0 else amount end) as decimal(18, 2))
            as closed_amount,
        {{ 'true' if adjusted else 'false' }} and measure <> 'row_count' as is_carried
    from (
        with side_rows as (
            select
                'current' as side,
                {{ period_of(period_column) }} as adjusts_period,
                cast({{ brand }} as varchar) as brand_code,
                cast({{ item }} as varchar) as item,
                {{ period_column }} as period_date,
                1 as row_count
                {%- for column in figures %},
                {{ column }}
                {%- endfor %}
            from {{ as_built }}
            where
                {{ period_of(period_column) }} in (select months.period from {{ months }} as months)
                and ({{ as_built_rows(node) }})
            union all
            select
                case when {{ carried_row }} then 'carried' else 'closed' end as side,
                {%- if adjusted %}
                coalesce(frozen_rows.adjusts_period, {{ period_of('frozen_rows.' ~ period_column) }}) as adjusts_period,
                {%- else %}
                {{ period_of('frozen_rows.' ~ period_column) }} as adjusts_period,
                {%- endif %}
                cast({{ 'frozen_rows.' ~ grain[0] if grain else 'null' }} as varchar) as brand_code,
                cast({{ 'frozen_rows.' ~ grain[1] if grain | length > 1 else 'null' }} as varchar) as item,
                frozen_rows.{{ period_column }} as period_date,
                case when {{ carried_row }} then 0 else 1 end as row_count
                {%- for column in figures %},
                frozen_rows.{{ column }}
                {%- endfor %}
            from {{ frozen }} as frozen_rows
            inner join {{ closes }} as closes on frozen_rows.close_event_id = closes.event_id
        ),

        side_figures as (
            select
                side,
                adjusts_period,
                brand_code,
                item,
                sum(row_count) as row_count
                {%- for column in measures %},
                sum({{ column }}) as {{ column }}
                {%- endfor %}
                {%- for column in balances %},
                sum(
                    case when side = 'carried' or period_date = period_end then {{ column }} end
                ) as {{ column }}
                {%- endfor %}
            from (
                select
                    *,
                    max(period_date) over (
                        partition by side, adjusts_period, brand_code, item
                    ) as period_end
                from side_rows
            ) as ended
            group by side, adjusts_period, brand_code, item
        )

        select
            side,
            adjusts_period,
            cast(null as varchar) as brand_code,
            cast(null as varchar) as item,
            'row_count' as measure,
            cast(row_count as decimal(18, 2)) as amount
        from side_figures
        {%- for column in figures %}
        union all
        select
            side,
            adjusts_period,
            brand_code,
            item,
            '{{ column }}' as measure,
            cast({{ column }} as decimal(18, 2)) as amount
        from side_figures
        {%- endfor %}
    ) as long_figures
    where adjusts_period in (select months.period from {{ months }} as months)
    group by adjusts_period, brand_code, item, measure
    having
        measure = 'row_count'
        or sum(case when side = 'current' then amount else -amount end) <> 0
{%- endmacro %}


{#- on-run-start: the tables the closing marts read their frozen rows from exist (empty
    until a close), each with the mart's contract columns and the close's event id. -#}
{% macro create_closed_period_tables() -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values()
            if node.resource_type == 'model' and node.config.meta.get('period_column') %}
            {{ yecai.create_closed_table(node) }};
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{% macro create_closed_table(node) -%}
    {{ return(adapter.dispatch('create_closed_table', 'yecai')(node)) }}
{%- endmacro %}

{% macro default__create_closed_table(node) -%}
    create schema if not exists closed;
    create table if not exists closed.{{ node.name }} (
        close_event_id varchar not null
        {%- for column, spec in node.columns.items() %},
        {{ column }} {{ spec.data_type }}
        {%- endfor %}
    )
{%- endmacro %}
