{#-
    Incremental strategy `window_replace`: the run's partition window is replaced whole.
    Rows of the window are deleted and the model's rows for the window inserted, so a
    re-run never duplicates rows and a row that disappeared upstream disappears here too.
    The model names its partition column with config(window_column=...), and with
    config(window_grain='month') replaces whole months from the window's first month,
    with config(window_grain='onward') every date from the window's first (a running
    total).
    A model whose run also changes rows outside the window (customers re-keyed by a merge)
    names its key with config(replace_keys=[...]): rows of the window, and rows whose key
    the run produced, are replaced.
    DuckDB: delete + insert in one transaction. Spark would use insert_overwrite on the
    business_date partitions (see dbt_project/README.md).
-#}
{% macro get_incremental_window_replace_sql(arg_dict) %}
    {{ return(adapter.dispatch('window_replace_sql', 'yecai')(arg_dict)) }}
{% endmacro %}

{% macro default__window_replace_sql(arg_dict) %}
    {%- set column = config.require('window_column') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set keys = config.get('replace_keys', []) -%}
    delete from {{ arg_dict['target_relation'] }} as target
    where
        {{ in_window('target.' ~ column, config.get('window_grain', 'day')) }}
        {%- if keys %}
        or exists (
            select 1 from {{ arg_dict['temp_relation'] }} as batch
            where
                {%- for key in keys %}
                batch.{{ key }} = target.{{ key }}{{ " and" if not loop.last }}
                {%- endfor %}
        )
        {%- endif %};

    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{% endmacro %}
